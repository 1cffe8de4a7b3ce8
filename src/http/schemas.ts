import { z } from "@hono/zod-openapi";

/** Request shapes every route family shares: list paging (`?limit=&cursor=`) and prefixed ids in paths. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const IdParamSchema = (prefix: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[a-z2-7]{26}$`), `must be an id: ${prefix}_ and 26 characters from a-z and 2-7`)
      .openapi({ param: { name: "id", in: "path" } }),
  });
