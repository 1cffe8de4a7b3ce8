import type { App } from "../http/types";

export function registerDocsRoutes(_app: App): void {}
