import type { App } from "../../http/types";

export function registerTokenRoutes(_app: App): void {}
