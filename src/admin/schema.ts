import { z } from "@hono/zod-openapi";
import { USER_ROLES } from "../db/schema/users";
import { PageQuerySchema } from "../http/schemas";

export const RoleChangeSchema = z
  .strictObject({
    role: z.enum(USER_ROLES),
    /** Kept in the audit event with the old and new role. */
    reason: z.string().trim().min(1).max(300).optional(),
  })
  .openapi("RoleChange");

export const UserListQuerySchema = PageQuerySchema.extend({ role: z.enum(USER_ROLES).optional() });

export const UserIdParamSchema = z.object({
  id: z
    .string()
    .regex(/^usr_[a-z2-7]{26}$/, "must be a usr_ id")
    .openapi({ param: { name: "id", in: "path" } }),
});
