import type { App } from "../http/types";

export function registerPortalRoutes(_app: App): void {}
