import { z } from "@hono/zod-openapi";
import { MAX_VAULT_BLOB_BYTES, VAULT_ID_PATTERN, VAULT_QUOTA } from "../../durable-objects/health-store/vault";

/**
 * The vault's HTTP shapes. The server checks only the blob's envelope (an object with an integer
 * `version` and string or number fields): what is inside is ciphertext it cannot read (docs/vault.md).
 */
export { MAX_VAULT_BLOB_BYTES, VAULT_QUOTA };

export const VaultIdParamSchema = z.object({
  id: z
    .string()
    .regex(VAULT_ID_PATTERN, "id must be 1-64 of A-Z a-z 0-9 _ -")
    .openapi({ param: { name: "id", in: "path" }, example: "mood-2026-01-15" }),
});

const MAX_FIELDS = 32;

export const VaultBlobSchema = z
  .object({ version: z.number().int().min(1).max(1_000_000) })
  .catchall(z.union([z.string(), z.number()]))
  .refine((blob) => Object.keys(blob).length <= MAX_FIELDS, { message: `a blob has at most ${MAX_FIELDS} fields` })
  .openapi("VaultBlob", {
    description: "An opaque client-encrypted blob (sdk/vault): `version` plus the format's string and number fields.",
    example: {
      version: 2,
      kdf: "PBKDF2",
      hash: "SHA-256",
      iterations: 600000,
      salt: "q83vEjRWeJCrze8SNFZ4kA==",
      cipher: "AES-256-GCM",
      iv: "AQIDBAUGBwgJCgsM",
      ciphertext: "2IDK/HJO5ym8bHXUh1s77otj8QxMQp9p…",
    },
  });
export type VaultBlobBody = z.infer<typeof VaultBlobSchema>;

export const VaultItemSchema = z
  .object({
    id: z.string(),
    version: z.number().int(),
    size: z.number().int().openapi({ description: "Bytes of the stored JSON" }),
    updatedAt: z.string().openapi({ description: "ISO 8601 instant of the last write" }),
  })
  .openapi("VaultItem");
export type VaultItem = z.infer<typeof VaultItemSchema>;

export const VaultWriteSchema = VaultItemSchema.extend({ created: z.boolean() }).openapi("VaultWrite");

export const VaultListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(200).optional(),
});

export const VaultPageSchema = z
  .object({ items: z.array(VaultItemSchema), nextCursor: z.string().nullable() })
  .openapi("VaultPage");
