import { z } from "zod";
import { DomainError } from "../../src/errors/domain-error";
import { decodeCursor, encodeCursor, invalidCursor } from "../../src/pagination/cursor";
import type { Page } from "./schema";

/**
 * The vault's rows in a HealthStore: opaque client-encrypted blobs (docs/vault.md) under ids the
 * client chooses. The store checks only what it needs to list them; the body is never parsed here.
 */
export const VAULT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The largest blob accepted, in UTF-8 bytes of its JSON. */
export const MAX_VAULT_BLOB_BYTES = 64 * 1024;

/**
 * What one user's vault may hold (docs/vault.md): far more notes than a person writes, and a bound
 * on what anyone can make Pulse store for them. Bytes are the blobs' stored JSON, as `size` reports;
 * at 64 KiB a blob, the byte quota binds first (about 400 blobs of the largest size).
 */
export const VAULT_QUOTA = { maxBlobs: 1_000, maxTotalBytes: 25 * 1024 * 1024 } as const;
export type VaultQuota = { maxBlobs: number; maxTotalBytes: number };

export const vaultIdSchema = z.string().regex(VAULT_ID_PATTERN, "id must be 1-64 of A-Z a-z 0-9 _ -");

export const vaultPutSchema = z.strictObject({
  id: vaultIdSchema,
  version: z.number().int().min(1).max(1_000_000),
  body: z.string().min(2).max(MAX_VAULT_BLOB_BYTES),
});
export type VaultPut = z.infer<typeof vaultPutSchema>;

export const vaultListQuerySchema = z.strictObject({
  limit: z.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(200).optional(),
});
export type VaultListQuery = z.input<typeof vaultListQuerySchema>;

export interface VaultBlobSummary {
  id: string;
  version: number;
  /** UTF-8 bytes of the stored JSON. */
  size: number;
  /** Epoch milliseconds. */
  updatedAt: number;
}

export interface StoredVaultBlob extends VaultBlobSummary {
  body: string;
}

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  version: number;
  body: string;
  size: number;
  updated_at: number;
}

/**
 * Inserts or replaces; reports which, so the route can answer 201 or 200. The quota is checked and
 * the row written in one synchronous step of the store (no await between them, inside the audited
 * transaction), so concurrent writes cannot both pass it. A replacement counts only its size delta,
 * and shrinking a blob is always allowed, even over a quota lowered since it was written.
 */
export function putVaultBlob(
  sql: SqlStorage,
  blob: VaultPut,
  now: number,
  quota: VaultQuota = VAULT_QUOTA,
): { created: boolean; blob: VaultBlobSummary } {
  const size = new TextEncoder().encode(blob.body).byteLength;
  if (size > MAX_VAULT_BLOB_BYTES) throw tooLarge();
  const [existing] = sql.exec<{ size: number }>("SELECT size FROM vault_blobs WHERE id = ?", blob.id).toArray();
  const usage = sql
    .exec<{ blobs: number; bytes: number }>("SELECT COUNT(*) AS blobs, COALESCE(SUM(size), 0) AS bytes FROM vault_blobs")
    .one();
  if (existing === undefined && usage.blobs >= quota.maxBlobs) {
    throw new DomainError(
      "CONFLICT",
      `The vault holds its maximum of ${quota.maxBlobs} blobs; delete one before adding another (replacing an existing id is allowed).`,
    );
  }
  const bytesAfter = usage.bytes - (existing?.size ?? 0) + size;
  if (bytesAfter > quota.maxTotalBytes && size > (existing?.size ?? 0)) {
    throw new DomainError(
      "PAYLOAD_TOO_LARGE",
      `This write would bring the vault to ${bytesAfter} bytes, over its quota of ${quota.maxTotalBytes} bytes; ` +
        `it holds ${usage.bytes}. Delete or shrink blobs first.`,
    );
  }
  sql.exec(
    `INSERT INTO vault_blobs (id, version, body, size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body, size = excluded.size,
       updated_at = excluded.updated_at`,
    blob.id,
    blob.version,
    blob.body,
    size,
    now,
    now,
  );
  return { created: existing === undefined, blob: { id: blob.id, version: blob.version, size, updatedAt: now } };
}

export function getVaultBlob(sql: SqlStorage, id: string): StoredVaultBlob {
  const [row] = sql.exec<Row>("SELECT id, version, body, size, updated_at FROM vault_blobs WHERE id = ?", id).toArray();
  if (row === undefined) throw notFound();
  return { id: row.id, version: row.version, body: row.body, size: row.size, updatedAt: row.updated_at };
}

export function deleteVaultBlob(sql: SqlStorage, id: string): void {
  const deleted = sql.exec("DELETE FROM vault_blobs WHERE id = ? RETURNING id", id).toArray();
  if (deleted.length === 0) throw notFound();
}

/** Ordered by id; the cursor is the last id returned, encoded so clients treat it as opaque. */
export function listVaultBlobs(sql: SqlStorage, query: z.output<typeof vaultListQuerySchema>): Page<VaultBlobSummary> {
  const [after = ""] = decodeCursor(query.cursor, "vault", ["string"]) ?? [];
  if (after !== "" && !VAULT_ID_PATTERN.test(after)) throw invalidCursor();
  const rows = sql
    .exec<Row>("SELECT id, version, size, updated_at FROM vault_blobs WHERE id > ? ORDER BY id LIMIT ?", after, query.limit + 1)
    .toArray();
  const items = rows
    .slice(0, query.limit)
    .map((row) => ({ id: row.id, version: row.version, size: row.size, updatedAt: row.updated_at }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor("vault", [last.id]) : null };
}

function notFound(): DomainError {
  return new DomainError("NOT_FOUND", "No vault blob with this id.");
}

function tooLarge(): DomainError {
  return new DomainError("PAYLOAD_TOO_LARGE", `A vault blob may be at most ${MAX_VAULT_BLOB_BYTES} bytes.`);
}
