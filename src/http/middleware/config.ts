import { createMiddleware } from "hono/factory";
import { getConfig } from "../../config/config";
import type { AppEnv } from "../types";

/** Makes the parsed configuration available as `c.var.config` (parsed once per isolate). */
export function withConfig() {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set("config", getConfig(c.env));
    await next();
  });
}
