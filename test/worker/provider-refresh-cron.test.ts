import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProviderRefreshMessage } from "../../src/providers/messages";
import { enqueueExpiringRefreshes } from "../../src/providers/sync/refresh-cron";
import { CRONS, runScheduled } from "../../src/scheduled/handler";

/**
 * The hourly `refreshExpiringProviderTokens` job through the scheduled handler, with the clock set
 * by an explicit `scheduledTime` (years before any connection the other tests make, so only this
 * file's rows can be due) and a SYNC queue that keeps what it is sent.
 */
const MINUTE = 60_000;

interface SeedRow {
  status: "active" | "reauth_required" | "revoked" | "sync_failed";
  expiresAt: number | null;
}

/** Users and one connection each, written straight into D1 (the scan reads no token). */
async function seed(rows: SeedRow[]): Promise<{ connectionId: string; userId: string }[]> {
  const seeded = rows.map((row) => ({ ...row, userId: `usr_${randomId()}`, connectionId: `con_${randomId()}` }));
  const now = Date.now();
  const statements: D1PreparedStatement[] = [];
  // D1 binds at most 100 parameters a statement: literal values (generated ids and numbers only).
  for (let start = 0; start < seeded.length; start += 200) {
    const part = seeded.slice(start, start + 200);
    statements.push(
      env.DB.prepare(
        `INSERT INTO users (id, username, display_name, role, created_at, updated_at) VALUES ${part
          .map((row) => `('${row.userId}', 'cron-${row.userId}', 'Cron', 'patient', ${now}, ${now})`)
          .join(", ")}`,
      ),
      env.DB.prepare(
        `INSERT INTO connections (id, user_id, provider, status, scopes, access_expires_at, created_at, updated_at) VALUES ${part
          .map(
            (row) =>
              `('${row.connectionId}', '${row.userId}', 'oura', '${row.status}', '[]', ${row.expiresAt ?? "NULL"}, ${now}, ${now})`,
          )
          .join(", ")}`,
      ),
    );
  }
  await env.DB.batch(statements);
  return seeded.map(({ connectionId, userId }) => ({ connectionId, userId }));
}

function randomId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  return Array.from(crypto.getRandomValues(new Uint8Array(26)), (byte) => alphabet[byte & 31]).join("");
}

function capturingQueue(sent: ProviderRefreshMessage[], batches: number[]): Queue {
  return {
    send: async (body: ProviderRefreshMessage) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<ProviderRefreshMessage>>) => {
      const list = [...messages];
      batches.push(list.length);
      for (const message of list) sent.push(message.body);
    },
  } as unknown as Queue;
}

describe("hourly provider token refresh", () => {
  it("queues a refresh for every active connection expiring within the hour, over several pages, and no other", async () => {
    const at = new Date("2021-03-01T10:00:00Z").getTime();
    const due = await seed(
      Array.from({ length: 150 }, (_, index) => ({
        status: "active" as const,
        // From a day overdue to 30 minutes ahead; threes share an instant, so the id breaks ties.
        expiresAt: at - 24 * 60 * MINUTE + Math.floor(index / 3) * 30 * MINUTE,
      })),
    );
    const notDue = await seed([
      { status: "active", expiresAt: at + 61 * MINUTE },
      { status: "active", expiresAt: null },
      { status: "reauth_required", expiresAt: at + 10 * MINUTE },
      { status: "revoked", expiresAt: at + 10 * MINUTE },
      { status: "sync_failed", expiresAt: at + 10 * MINUTE },
    ]);

    const sent: ProviderRefreshMessage[] = [];
    const batches: number[] = [];
    const result = await runScheduled(CRONS.hourly, new Date(at), { ...env, SYNC: capturingQueue(sent, batches) });
    expect(result.failed).toEqual([]);
    expect(result.ran).toContain("refreshExpiringProviderTokens");

    expect(batches).toEqual([100, 50]);
    expect(sent.map((message) => message.connectionId).sort()).toEqual(due.map((row) => row.connectionId).sort());
    expect(new Set(sent.map((message) => message.connectionId)).size).toBe(150);
    const owner = new Map(due.map((row) => [row.connectionId, row.userId]));
    for (const message of sent) {
      expect(message).toEqual({
        type: "provider.refresh",
        connectionId: message.connectionId,
        userId: owner.get(message.connectionId),
        provider: "oura",
      });
    }
    for (const skipped of notDue) expect(sent.some((message) => message.connectionId === skipped.connectionId)).toBe(false);
  });

  it("takes the soonest expiries first when a run is bounded, and measures the scan", async () => {
    const at = new Date("2022-06-01T10:00:00Z").getTime();
    const count = 2_000;
    const rows = await seed(
      Array.from({ length: count }, (_, index) => ({ status: "active" as const, expiresAt: at + (index % 50) * MINUTE })),
    );
    const mine = new Set(rows.map((row) => row.connectionId));

    const bounded: ProviderRefreshMessage[] = [];
    const limited = await enqueueExpiringRefreshes({ ...env, SYNC: capturingQueue(bounded, []) }, new Date(at), {
      maxConnections: 250,
    });
    expect(limited).toMatchObject({ enqueued: 250, truncated: true });

    const sent: ProviderRefreshMessage[] = [];
    const batches: number[] = [];
    const started = performance.now();
    const full = await enqueueExpiringRefreshes({ ...env, SYNC: capturingQueue(sent, batches) }, new Date(at));
    const elapsed = performance.now() - started;
    expect(full.truncated).toBe(false);
    expect(sent.filter((message) => mine.has(message.connectionId))).toHaveLength(count);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
    // The earlier file rows expire before these, so the bounded run took only rows at or before
    // the 250th soonest expiry of the full, ordered scan.
    expect(bounded.map((message) => message.connectionId)).toEqual(sent.slice(0, 250).map((message) => message.connectionId));
    const perThousand = (elapsed / full.enqueued) * 1000;
    console.log(
      JSON.stringify({
        bench: "refresh scan",
        connections: full.enqueued,
        pages: full.pages,
        ms: Math.round(elapsed),
        msPer1000: Math.round(perThousand),
      }),
    );
    // Generous bound for a shared test machine: 100k connections must stay far inside a cron run.
    expect(perThousand).toBeLessThan(5_000);
  });
});
