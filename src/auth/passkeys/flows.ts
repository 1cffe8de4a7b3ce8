/**
 * WebAuthn ceremonies as rows of `auth_flows` (WebAuthn L3 §13.4.3: challenges are random, used
 * once, and expire). A flow is bound to its ceremony kind (and, for adding a passkey, to the user
 * who asked), lives 5 minutes, and is consumed by ONE conditional UPDATE before its response is
 * verified: of two concurrent verifications of one flow exactly one gets the row back, and a
 * response that then fails verification has still burnt its challenge.
 */
import { and, eq, gt, isNull, lt } from "drizzle-orm";
import { type Db, getDb } from "../../db/client";
import { newId } from "../../db/ids";
import { authFlows, type CeremonyKind } from "../../db/schema";
import type { ScheduledJob } from "../../scheduled/handler";

export const FLOW_TTL_MS = 5 * 60 * 1000;

export type FlowRow = typeof authFlows.$inferSelect;

export interface NewFlow {
  kind: CeremonyKind;
  challenge: string;
  userId?: string | null;
  username?: string | null;
  displayName?: string | null;
}

export async function createFlow(db: Db, flow: NewFlow, now = new Date()): Promise<string> {
  const id = newId("flw");
  await db.insert(authFlows).values({
    id,
    kind: flow.kind,
    challenge: flow.challenge,
    userId: flow.userId ?? null,
    username: flow.username ?? null,
    displayName: flow.displayName ?? null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + FLOW_TTL_MS),
  });
  return id;
}

/**
 * Claims a live flow of `kind` (for `userId`, when given), or undefined when it is unknown,
 * expired, already used, of another kind or another user's: callers answer all of them alike.
 */
export async function consumeFlow(
  db: Db,
  flowId: string,
  kind: CeremonyKind,
  options: { userId?: string; now?: Date } = {},
): Promise<FlowRow | undefined> {
  const now = options.now ?? new Date();
  const [flow] = await db
    .update(authFlows)
    .set({ consumedAt: now })
    .where(
      and(
        eq(authFlows.id, flowId),
        eq(authFlows.kind, kind),
        isNull(authFlows.consumedAt),
        gt(authFlows.expiresAt, now),
        options.userId === undefined ? undefined : eq(authFlows.userId, options.userId),
      ),
    )
    .returning();
  return flow;
}

/** Daily retention: flows are worthless once expired (register in the daily cron). */
export const purgeExpiredFlows: ScheduledJob = {
  name: "auth-flows-purge",
  async run(env, scheduledTime) {
    await getDb(env.DB).delete(authFlows).where(lt(authFlows.expiresAt, scheduledTime));
  },
};
