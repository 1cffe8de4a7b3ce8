/**
 * Narratives regenerate in the background after new data (DESIGN §5): an ingestion that stored
 * anything marks the affected stored narratives stale (in the HealthStore, in its transaction) and,
 * unless a refresh is already pending, asks its caller to queue one `narratives.refresh` message on
 * SYNC, delayed so a burst of uploads or a multi-page provider sync is one regeneration, not many.
 * An upload's chunks do not ask one by one: its job asks once when a run ends (src/uploads/
 * ingest-upload.ts), so a file of any size is one message. The message names only the user: the
 * job reads what is stale and where the newest data lies from the store, which every chunk updated
 * in its own transaction, so asking late misses nothing.
 *
 * The job regenerates the stale stored narratives (with the offsets each was computed with) and
 * generates the day and the week holding the newest data in the person's home zone (that of their
 * last own narrative read), so the narrative a person opens next is usually ready.
 */
import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { BatchIngestResult } from "../../durable-objects/health-store/batch-schema";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { getDb } from "../db/client";
import { idPattern } from "../db/ids";
import { users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { errorName, log } from "../observability/log";
import { parseTimeZone } from "../observations/time-zone";
import type { Job } from "../queues/consumer";
import { localDateOf, resolveNarrativePeriod } from "./period";

/** Long enough for a burst of uploads (a phone sends one file per record type) to land first. */
export const NARRATIVE_REFRESH_DELAY_SECONDS = 60;
export const NARRATIVE_REFRESH_ACTOR = "system:narratives.refresh";

export const narrativeRefreshMessage = z.object({
  type: z.literal("narratives.refresh"),
  userId: z.string().regex(idPattern("usr")),
});
export type NarrativeRefreshMessage = z.infer<typeof narrativeRefreshMessage>;

/**
 * Queues the refresh an ingestion asked for (`narrativesRefresh` on its result). A failure to
 * queue is logged, not thrown: the data is stored and its narratives are marked stale, so a read
 * regenerates them anyway, and the store asks again after 15 minutes.
 */
export async function queueNarrativeRefresh(
  queue: Queue,
  userId: string,
  result: Pick<BatchIngestResult, "narrativesRefresh">,
): Promise<void> {
  if (result.narrativesRefresh !== true) return;
  const message: NarrativeRefreshMessage = { type: "narratives.refresh", userId };
  try {
    await queue.send(message, { contentType: "json", delaySeconds: NARRATIVE_REFRESH_DELAY_SECONDS });
  } catch (error) {
    log("warn", "narrative refresh not queued", { userId, error: errorName(error) });
  }
}

export const narrativeRefreshJob: Job<NarrativeRefreshMessage> = {
  schema: narrativeRefreshMessage,
  async run(body, context) {
    await refreshNarratives(context.env, body.userId, Date.now());
  },
};

/** What the job regenerated and generated, by id. */
export async function refreshNarratives(env: Env, userId: string, now: number): Promise<{ id: string; generatedAt: number }[]> {
  // A message outliving its account must not bring the deleted store back.
  const [user] = await getDb(env.DB)
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.deletedAt)));
  if (user === undefined) return [];
  const store = healthStoreFor(env.HEALTH_STORE, userId);
  const plan = await store.claimNarrativeRefresh();
  const generate = [];
  if (plan.latestDataMs !== null) {
    const zone = parseTimeZone(plan.timeZone) ?? parseTimeZone("UTC");
    if (zone === null) throw new Error("unreachable: UTC is a time zone");
    // Data stamped in the future (a device clock) does not make the job write next year's narrative.
    const date = localDateOf(zone, Math.min(plan.latestDataMs, now));
    for (const period of ["day", "week"] as const) {
      const target = periodOrNull(period, date, zone, now);
      if (target !== null) generate.push({ period, date: target.date, timeZone: zone.name, zone: target.offsets });
    }
  }
  if (plan.stale.length === 0 && generate.length === 0) return [];
  const audit: StoreAuditContext = {
    actor: NARRATIVE_REFRESH_ACTOR,
    role: "system",
    reason: "narratives regenerated after new data",
    requestId: null,
    ip: null,
    subject: userId,
  };
  return store.refreshNarratives({ ids: plan.stale, generate }, audit);
}

/** The period, or null at the ends of the supported dates (data at the epoch, east of UTC). */
function periodOrNull(...args: Parameters<typeof resolveNarrativePeriod>) {
  try {
    return resolveNarrativePeriod(...args);
  } catch (error) {
    if (error instanceof DomainError) return null;
    throw error;
  }
}
