import { z } from "@hono/zod-openapi";

/** The problem+json body as an OpenAPI schema, shared by every route's error responses. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string().openapi({ example: "VALIDATION_FAILED" }),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: "Problem details (RFC 9457)", content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  );
}
