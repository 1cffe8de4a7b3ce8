/**
 * The steps of an account deletion, in order (docs/deletion.md). Each is idempotent: run twice, it
 * finds nothing left the second time, so a retried job simply continues. The order matters:
 * - provider connections first: revoking at the provider needs their tokens, and their data
 *   deletion runs through the HealthStore;
 * - uploads (raw files and rows) before the lake and the store: an ingest still queued finds its
 *   upload gone and stops instead of writing data back;
 * - the lake before the store: only the store knows which partitions hold the user's parts;
 * - the credential activity (AuthActivity) after the account's sessions and devices are gone, so
 *   nothing is left to record more;
 * - the D1 rows that identify the person, then the security chain's erasure, last.
 */
import { eq, inArray, or } from "drizzle-orm";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import { forgetAuthActivity } from "../auth/activity";
import type { Db } from "../db/client";
import {
  auditSeals,
  authFlows,
  connections,
  consents,
  devices,
  exports,
  grantInvitations,
  grants,
  passkeys,
  recoveryCodes,
  refreshTokens,
  sessions,
  uploads,
} from "../db/schema";
import { lakeUserDayPrefix } from "../lake/writer";
import { connectContext } from "../providers/connect/context";
import { disconnect } from "../providers/connect/manage";
import { listConnections } from "../providers/connections";
import { deleteWebhookEvents } from "../providers/webhooks/events";
import { deletePrefix } from "./r2";

export interface StepContext {
  env: Env;
  db: Db;
  userId: string;
  audit: AuditContext;
  /** Where an interrupted run of this step stopped (its last checkpoint), or null. */
  resumeFrom: string | null;
  /** Records progress inside the step, so a retry resumes after it rather than from the start. */
  checkpoint(cursor: string): Promise<void>;
  /** Lake partitions to handle in this invocation (LAKE_PARTITIONS_PER_RUN). */
  lakePartitionsPerRun: number;
}

/** `done` when the step finished; `continued` when it stopped at a checkpoint to go on in a new invocation. */
export type StepOutcome = "done" | "continued";

export interface DeletionStep {
  name: string;
  run(ctx: StepContext): Promise<StepOutcome | undefined>;
}

/**
 * Lake partitions handled per invocation: each costs an R2 listing and a delete, and one
 * invocation may only make so many subrequests; a year of a dozen metrics is thousands.
 */
export const LAKE_PARTITIONS_PER_RUN = 400;

/** Revoke every live connection at its provider (with its data and webhook payloads), then drop every payload left. */
async function removeProviderConnections(ctx: StepContext): Promise<undefined> {
  const connect = await connectContext(ctx.env, ctx.audit);
  for (const connection of await listConnections(ctx.db, ctx.userId)) {
    await disconnect(connect, ctx.userId, connection.provider, "delete");
  }
  await removeWebhookPayloads(ctx);
}

/**
 * Every stored webhook delivery about the user, at every provider: those resolved to them and those
 * naming one of their provider accounts (revoked connections still name them). One fan-out over the
 * ledger's shards for all providers together.
 */
async function removeWebhookPayloads(ctx: StepContext): Promise<void> {
  await deleteWebhookEvents(ctx.env, { userId: ctx.userId });
}

async function removeSharing(ctx: StepContext): Promise<undefined> {
  await ctx.db.batch([
    ctx.db.delete(grants).where(or(eq(grants.patientId, ctx.userId), eq(grants.granteeId, ctx.userId))),
    ctx.db.delete(grantInvitations).where(eq(grantInvitations.patientId, ctx.userId)),
  ]);
}

async function removeExports(ctx: StepContext): Promise<undefined> {
  const rows = await ctx.db.select({ r2Key: exports.r2Key }).from(exports).where(eq(exports.userId, ctx.userId));
  const elsewhere = rows.map((row) => row.r2Key).filter((key): key is string => key !== null);
  if (elsewhere.length > 0) await ctx.env.LAKE.delete(elsewhere);
  await deletePrefix(ctx.env.LAKE, `exports/${ctx.userId}/`);
  await ctx.db.delete(exports).where(eq(exports.userId, ctx.userId));
}

async function removeUploads(ctx: StepContext): Promise<undefined> {
  await deletePrefix(ctx.env.LAKE, `raw/${ctx.userId}/`);
  for (;;) {
    const page = await ctx.db
      .select({ id: uploads.id, r2Key: uploads.r2Key })
      .from(uploads)
      .where(eq(uploads.userId, ctx.userId))
      .limit(500);
    if (page.length === 0) break;
    await ctx.env.LAKE.delete(page.map((row) => row.r2Key));
    await ctx.db.delete(uploads).where(
      inArray(
        uploads.id,
        page.map((row) => row.id),
      ),
    );
  }
  // An ingest job already past its row keeps writing chunks, and each chunk's lake part, until its
  // store refuses the next one: refused from now on, before the lake step lists what to delete.
  await healthStoreFor(ctx.env.HEALTH_STORE, ctx.userId).endAllUploads();
}

/** Partitions come sorted by (metric, date), so `metric/date` of the last one done is the cursor. */
async function removeLakeParts(ctx: StepContext): Promise<StepOutcome> {
  const partitions = await healthStoreFor(ctx.env.HEALTH_STORE, ctx.userId).lakePartitions();
  const after = ctx.resumeFrom;
  const pending = partitions.filter(({ metric, localDate }) => after === null || `${metric}/${localDate}` > after);
  for (const [index, { metric, localDate }] of pending.entries()) {
    if (index === ctx.lakePartitionsPerRun) return "continued";
    await deletePrefix(ctx.env.LAKE, lakeUserDayPrefix(metric, localDate, ctx.userId));
    if ((index + 1) % 50 === 0 || index + 1 === ctx.lakePartitionsPerRun) await ctx.checkpoint(`${metric}/${localDate}`);
  }
  return "done";
}

async function removeHealthStore(ctx: StepContext): Promise<undefined> {
  await healthStoreFor(ctx.env.HEALTH_STORE, ctx.userId).deleteAll();
}

/** The user's HealthStore chain as sealed to R2, and the seal rows that chain it. */
async function removeSealedAudit(ctx: StepContext): Promise<undefined> {
  await deletePrefix(ctx.env.LAKE, `audit/${ctx.userId}/`);
  await ctx.db.delete(auditSeals).where(eq(auditSeals.chain, ctx.userId));
}

/** Session and device use and DPoP keys: nothing can add more once the account's rows are gone. */
async function removeAuthActivity(ctx: StepContext): Promise<undefined> {
  await forgetAuthActivity(ctx.env, ctx.userId);
}

/** Every D1 row that names the user, but the user row itself and the security chain (last steps). */
async function removeAccountRows(ctx: StepContext): Promise<undefined> {
  const { db, userId } = ctx;
  const ownSessions = db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, userId));
  // A delivery resolved to the user since the first step: its payload goes before the rows naming it.
  await removeWebhookPayloads(ctx);
  await db.batch([
    db.delete(consents).where(eq(consents.userId, userId)),
    db.delete(connections).where(eq(connections.userId, userId)),
    db.delete(refreshTokens).where(inArray(refreshTokens.sessionId, ownSessions)),
    db.delete(sessions).where(eq(sessions.userId, userId)),
    db.delete(devices).where(eq(devices.userId, userId)),
    db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
    db.delete(passkeys).where(eq(passkeys.userId, userId)),
    // Registration flows carry the username and display name; re-authentication flows the id.
    db.delete(authFlows).where(eq(authFlows.userId, userId)),
  ]);
}

export const DELETION_STEPS: readonly DeletionStep[] = [
  { name: "providers", run: removeProviderConnections },
  { name: "sharing", run: removeSharing },
  { name: "exports", run: removeExports },
  { name: "uploads", run: removeUploads },
  { name: "lake", run: removeLakeParts },
  { name: "store", run: removeHealthStore },
  { name: "sealed_audit", run: removeSealedAudit },
  { name: "account_rows", run: removeAccountRows },
  // Again, last: an ingest chunk or provider page already running when the store was emptied can
  // still write to it (and its alarm seal that to R2). By now no upload, connection or session
  // of the person is left to start another, so this sweep leaves the store and R2 empty for good.
  { name: "store_sweep", run: removeHealthStore },
  { name: "sealed_audit_sweep", run: removeSealedAudit },
  // After account_rows: with the sessions and devices gone nothing records more. A late write
  // (a use recorded by a request already answered) expires by the object's own alarm.
  { name: "auth_activity", run: removeAuthActivity },
];
