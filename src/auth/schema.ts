import { z } from "@hono/zod-openapi";

/** Response and request shapes shared by the identity routes (OpenAPI components). */
export const UserSchema = z
  .object({
    id: z.string().openapi({ example: "usr_abcdefghijklmnopqrstuvwxyz" }),
    username: z.string(),
    displayName: z.string(),
    role: z.enum(["patient", "clinician", "researcher", "admin", "auditor"]),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("User");

export const TokenBodySchema = z
  .object({
    user: UserSchema,
    accessToken: z.string().openapi({ description: "ES256 JWT, 15 minutes" }),
    refreshToken: z.string().openapi({ description: "Opaque `id.secret`; rotated on every use" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ example: 900 }),
    sessionId: z.string(),
  })
  .openapi("Tokens");

export const RefreshRequestSchema = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi("RefreshRequest");

export const SessionSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    expiresAt: z.string(),
    userAgent: z.string().nullable(),
    current: z.boolean(),
  })
  .openapi("Session");
