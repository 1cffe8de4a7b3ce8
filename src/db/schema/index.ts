export * from "./auth";
export * from "./security-events";
export * from "./users";
