import type { App } from "../http/types";

export function registerAdminRoutes(_app: App): void {}
