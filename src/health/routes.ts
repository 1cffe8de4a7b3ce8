import { createRoute, z } from "@hono/zod-openapi";
import { HttpError } from "../http/errors";
import { problemResponses } from "../http/openapi";
import type { App } from "../http/types";
import { checkHealth } from "./health";

const CheckSchema = z.object({
  status: z.enum(["ok", "fail"]),
  latencyMs: z.number(),
  error: z.string().optional(),
});

const HealthSchema = z
  .object({
    status: z.literal("ok"),
    checks: z.object({ d1: CheckSchema, r2: CheckSchema }),
  })
  .openapi("Health");

const route = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  security: [],
  tags: ["Operations"],
  summary: "Liveness and dependency checks (D1, R2)",
  responses: {
    200: { description: "All dependencies answer", content: { "application/json": { schema: HealthSchema } } },
    ...problemResponses(503),
  },
});

export function registerHealthRoutes(app: App): void {
  app.openapi(route, async (c) => {
    const report = await checkHealth({ db: c.env.DB, lake: c.env.LAKE });
    if (report.status === "ok") return c.json({ status: "ok" as const, checks: report.checks }, 200);
    const failing = Object.entries(report.checks)
      .filter(([, check]) => check.status === "fail")
      .map(([name]) => name);
    throw new HttpError("SERVICE_UNAVAILABLE", `Failing checks: ${failing.join(", ")}.`, {
      extensions: { checks: report.checks },
      headers: { "Retry-After": "30" },
    });
  });
}
