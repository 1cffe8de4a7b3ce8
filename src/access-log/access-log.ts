import { inArray } from "drizzle-orm";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ChainedAuditEvent } from "../audit/event";
import { parseAuditResource } from "../audit/resource";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { type ActorName, describeEvent, describeWho } from "./describe";
import { type AccessLogItem, type AccessLogQuery, USER_ID } from "./schema";

/**
 * The person's own access log (DESIGN §8): every read and write of their health data, from their
 * HealthStore's audit chain, filtered and paged in the store, then put into words here.
 *
 * Reading it is not itself recorded: the log is about health data, and the log is not health data.
 * Recording each look would also grow the chain with every refresh of the page that shows it.
 */
export interface AccessLogContext {
  db: Db;
  stores: DurableObjectNamespace<HealthStore>;
  userId: string;
}

export async function readAccessLog(
  ctx: AccessLogContext,
  query: AccessLogQuery,
): Promise<{ items: AccessLogItem[]; nextCursor: string | null }> {
  const page = await healthStoreFor(ctx.stores, ctx.userId).accessLog({
    limit: query.limit,
    cursor: query.cursor,
    actor: query.actor === "me" ? ctx.userId : query.actor === "others" ? undefined : query.actor,
    excludeActor: query.actor === "others" ? ctx.userId : undefined,
    role: query.role,
    since: query.since === undefined ? undefined : Date.parse(query.since),
    until: query.until === undefined ? undefined : Date.parse(query.until),
  });
  const names = await actorNames(ctx.db, page.items, ctx.userId);
  return { items: page.items.map((event) => toItem(event, ctx.userId, names)), nextCursor: page.nextCursor };
}

/** The display names of a page's actors, in one query; an id with no live account reads as deleted. */
async function actorNames(db: Db, events: readonly ChainedAuditEvent[], me: string): Promise<Map<string, ActorName>> {
  const ids = [...new Set(events.map((event) => event.actor))].filter((id) => id !== me && USER_ID.test(id));
  const names = new Map<string, ActorName>(ids.map((id) => [id, { deleted: true }]));
  if (ids.length === 0) return names;
  const rows = await db
    .select({ id: users.id, displayName: users.displayName, deletedAt: users.deletedAt })
    .from(users)
    .where(inArray(users.id, ids));
  for (const row of rows) if (row.deletedAt === null) names.set(row.id, { displayName: row.displayName });
  return names;
}

function toItem(event: ChainedAuditEvent, me: string, names: ReadonlyMap<string, ActorName>): AccessLogItem {
  const resource = parseAuditResource(event.resource);
  return {
    seq: event.seq,
    at: event.at,
    who: describeWho(event, me, names),
    action: event.action,
    description: describeEvent(event, resource),
    categories: resource.categories,
    metrics: resource.metrics,
    period: resource.period,
    reason: event.reason,
    result: event.result,
    requestId: event.requestId,
    // The answer's receipt hash (`ai.answer`): what `receipt.sha256` of that answer says.
    ...(event.action === "ai.answer" && resource.kind === "receipt" && resource.id !== null ? { receipt: resource.id } : {}),
  };
}
