/**
 * The per-connection refresh lock (DESIGN §7 "under a per-connection lock"), as a lease on the
 * connection's own D1 row.
 *
 * Why a lease in D1 rather than a Durable Object: the tokens already live in this row, so taking
 * the lock, re-reading the tokens and storing the rotated ones all go to the one place that holds
 * the truth, and a conditional UPDATE is atomic in D1 (one writer). A Durable Object would add a
 * second store whose state could disagree with the row, one more hop per refresh, and a class to
 * deploy, for a lock taken at most a few times an hour per connection.
 *
 * Acquisition is `UPDATE … WHERE id = ? AND (lease_until IS NULL OR lease_until <= now)`: exactly
 * one concurrent caller gets its lease id back. The lease expires on its own (a refresher that
 * crashed holds nobody up for longer than `REFRESH_LEASE_MS`), and release names the lease id, so
 * a late refresher cannot release a lease that has since passed to someone else.
 */
import { and, eq, isNull, lte, ne, or } from "drizzle-orm";
import type { Db } from "../../db/client";
import { connections } from "../../db/schema";

/** Longer than any token request may take, short enough that a crashed holder is soon replaced. */
export const REFRESH_LEASE_MS = 2 * 60 * 1000;

export interface RefreshLease {
  id: string;
  connectionId: string;
  until: Date;
}

/** Takes the connection's refresh lease, or returns null when someone else holds it. */
export async function acquireRefreshLease(
  db: Db,
  connection: { id: string; userId: string },
  now: Date,
): Promise<RefreshLease | null> {
  const lease = { id: crypto.randomUUID(), connectionId: connection.id, until: new Date(now.getTime() + REFRESH_LEASE_MS) };
  const [taken] = await db
    .update(connections)
    .set({ refreshLeaseId: lease.id, refreshLeaseUntil: lease.until })
    .where(
      and(
        eq(connections.id, connection.id),
        eq(connections.userId, connection.userId),
        ne(connections.status, "revoked"),
        or(isNull(connections.refreshLeaseUntil), lte(connections.refreshLeaseUntil, now)),
      ),
    )
    .returning({ id: connections.id });
  return taken ? lease : null;
}

/** Releases the lease if it is still ours; a lease that expired and passed on is left alone. */
export async function releaseRefreshLease(db: Db, lease: RefreshLease): Promise<void> {
  await db
    .update(connections)
    .set({ refreshLeaseId: null, refreshLeaseUntil: null })
    .where(and(eq(connections.id, lease.connectionId), eq(connections.refreshLeaseId, lease.id)));
}
