import type { App } from "../../http/types";

export function registerPasskeyRoutes(_app: App): void {}
