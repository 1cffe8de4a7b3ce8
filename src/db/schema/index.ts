export * from "./security-events";
export * from "./users";
