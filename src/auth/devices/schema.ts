import { z } from "@hono/zod-openapi";
import { DEVICE_NAME_MAX, nicknameSchema } from "../../identifiers/schema";

/**
 * Shapes of device credentials (DESIGN §4). A device proves possession of an EC P-256 key with
 * ES256 DPoP proofs (RFC 9449); only the public half is ever sent, so a JWK with private members
 * (`d`, or members of other key types) is refused rather than silently stripped.
 */
const base64urlCoordinate = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a 32-byte base64url coordinate");

export const PublicJwkSchema = z
  .strictObject({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: base64urlCoordinate,
    y: base64urlCoordinate,
    alg: z.literal("ES256").optional(),
    use: z.literal("sig").optional(),
    kid: z.string().max(128).optional(),
    // What WebCrypto's exportKey("jwk") adds to a public key.
    ext: z.boolean().optional(),
    key_ops: z.array(z.literal("verify")).optional(),
  })
  .openapi("DevicePublicJwk", { description: "The device's EC P-256 public key (no private members)" });

export type DevicePublicJwk = z.infer<typeof PublicJwkSchema>;

export const CreateDeviceSchema = z
  .strictObject({
    name: nicknameSchema(DEVICE_NAME_MAX),
    publicJwk: PublicJwkSchema,
  })
  .openapi("CreateDevice");

export const DeviceSchema = z
  .object({
    id: z.string().openapi({ example: "dev_abcdefghijklmnopqrstuvwxyz" }),
    name: z.string(),
    scopes: z.array(z.string()).openapi({ example: ["uploads:write"] }),
    createdAt: z.string().openapi({ format: "date-time" }),
    lastUsedAt: z.string().nullable().openapi({ format: "date-time" }),
    expiresAt: z.string().openapi({ format: "date-time", description: "90 days after the last use" }),
  })
  .openapi("Device");

export const CreatedDeviceSchema = z
  .object({
    device: DeviceSchema,
    credential: z.string().openapi({
      description: "`dev_….secret`, shown once. Send as `Authorization: DPoP <credential>` with a DPoP proof header.",
    }),
  })
  .openapi("CreatedDevice");

export const DevicePageSchema = z
  .object({ items: z.array(DeviceSchema), nextCursor: z.string().nullable() })
  .openapi("DevicePage");
