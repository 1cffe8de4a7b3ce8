export * from "./auth";
export * from "./security-events";
export * from "./uploads";
export * from "./users";
