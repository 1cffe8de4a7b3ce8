import type { App } from "../../http/types";

export function registerDeviceRoutes(_app: App): void {}
