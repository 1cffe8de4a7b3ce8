import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { VaultBlobSummary } from "../../durable-objects/health-store/vault";
import type { AuditContext } from "../audit/event";
import { type VaultBlobBody, VaultBlobSchema, type VaultItem } from "./schema";

/**
 * The vault's domain functions. Each one calls the caller's own HealthStore (`idFromName(userId)`
 * of the authenticated user), so another person's blob is not addressable at all: a foreign id is
 * simply unknown (404). The store audits every read and write in the same transaction.
 */
export interface VaultContext {
  stores: DurableObjectNamespace<HealthStore>;
  /** The authenticated caller, whose vault this is. */
  userId: string;
  audit: AuditContext;
}

function storeOf(ctx: VaultContext) {
  return { store: healthStoreFor(ctx.stores, ctx.userId), audit: { ...ctx.audit, subject: ctx.userId } };
}

function present(blob: VaultBlobSummary): VaultItem {
  return { id: blob.id, version: blob.version, size: blob.size, updatedAt: new Date(blob.updatedAt).toISOString() };
}

export async function putBlob(ctx: VaultContext, id: string, blob: VaultBlobBody): Promise<VaultItem & { created: boolean }> {
  const { store, audit } = storeOf(ctx);
  const result = await store.putVaultBlob({ id, version: blob.version, body: JSON.stringify(blob) }, audit);
  return { ...present(result.blob), created: result.created };
}

/** The blob with the fields the client sent; only its envelope was ever checked. */
export async function getBlob(ctx: VaultContext, id: string): Promise<VaultBlobBody> {
  const { store, audit } = storeOf(ctx);
  const stored = await store.getVaultBlob(id, audit);
  return VaultBlobSchema.parse(JSON.parse(stored.body));
}

export async function deleteBlob(ctx: VaultContext, id: string): Promise<void> {
  const { store, audit } = storeOf(ctx);
  await store.deleteVaultBlob(id, audit);
}

export async function listBlobs(
  ctx: VaultContext,
  query: { limit: number; cursor?: string | undefined },
): Promise<{ items: VaultItem[]; nextCursor: string | null }> {
  const { store, audit } = storeOf(ctx);
  const page = await store.listVaultBlobs(
    { limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) },
    audit,
  );
  return { items: page.items.map(present), nextCursor: page.nextCursor };
}
