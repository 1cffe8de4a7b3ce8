import type { App } from "../../http/types";

export function registerSessionRoutes(_app: App): void {}
