import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createRoute, z } from "@hono/zod-openapi";
import { createApp } from "../../../src/app";
import type { App } from "../../../src/http/types";

/**
 * The real application (every middleware, error handler, 404/405) plus a few routes that exist only
 * in tests, to exercise JSON bodies and failures before domain routes exist.
 */
export function createTestApp(): App {
  const app = createApp();
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/test/echo",
      request: {
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.strictObject({
                name: z.string().min(1),
                age: z.number().int().min(0),
                tags: z.array(z.string()).optional(),
              }),
            },
          },
        },
      },
      responses: { 200: { description: "echo" } },
    }),
    (c) => c.json(c.req.valid("json"), 200),
  );
  app.get("/v1/test/boom", () => {
    throw new Error("database password is hunter2");
  });
  return app;
}

export function call(app: App, path: string, init: RequestInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  return Promise.resolve(app.request(`http://localhost${path}`, init, { ...env, ...bindings }, createExecutionContext()));
}
