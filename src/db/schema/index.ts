export * from "./auth";
export * from "./connections";
export * from "./security-events";
export * from "./uploads";
export * from "./users";
export * from "./webhook-events";
