import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { refreshNarratives } from "../../src/narratives/refresh";
import type { IngestMessage } from "../../src/uploads/create-upload";
import { type IngestContext, type IngestOutcome, ingestUpload } from "../../src/uploads/ingest-upload";
import type { UploadView } from "../../src/uploads/uploads";
import { createSessionUser } from "./helpers/session-user";
import { call } from "./helpers/test-app";
import { getUpload, seedUpload, storedCounts } from "./helpers/upload-api";
import { heartRateFile } from "./helpers/upload-files";

/**
 * D1 has one writer for every user, so an upload costs it a fixed number of writes whatever the
 * file's size: its chunks' progress is kept in the user's HealthStore. Counted here on the real
 * local D1 through a proxy that sees every statement the job prepares.
 */
const app = createApp();
const none = { accepted: 0, duplicate: 0, flagged: 0, rejected: 0 };
const WRITE = /^\s*(insert|update|delete|replace)\b/i;

/** The real D1, keeping the text of every write statement prepared through it. */
function countingD1(writes: string[]): D1Database {
  const real = env.DB;
  return new Proxy(real, {
    get(target, name) {
      if (name === "prepare") {
        return (query: string) => {
          if (WRITE.test(query)) writes.push(query.trim().split(/\s+/).slice(0, 3).join(" "));
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A queue that keeps what is sent instead of delivering it: the test delivers INGEST messages itself. */
function keepingQueue(sent: unknown[]): Queue {
  return {
    send: async (body: unknown) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      for (const message of messages) sent.push(message.body);
    },
  } as unknown as Queue;
}

interface Run {
  writes: string[];
  refreshes: unknown[];
  outcomes: IngestOutcome[];
}

/**
 * Delivers an upload's message and each continuation it queues, one run after another, with
 * `between` called after every run that handed over; everything through the counting D1.
 */
async function ingestToTheEnd(
  message: IngestMessage,
  options: Pick<IngestContext, "maxChunksPerRun" | "chunkObservations">,
  between: () => Promise<void> = async () => undefined,
): Promise<Run> {
  const run: Run = { writes: [], refreshes: [], outcomes: [] };
  const continuations: unknown[] = [];
  const jobEnv = { ...env, DB: countingD1(run.writes), INGEST: keepingQueue(continuations), SYNC: keepingQueue(run.refreshes) };
  const ctx: IngestContext = { db: getDb(jobEnv.DB), env: jobEnv, ...options };
  let next: unknown = message;
  while (next !== undefined) {
    const outcome = await ingestUpload(ctx, next as IngestMessage);
    run.outcomes.push(outcome);
    next = continuations.shift();
    if (outcome === "continued") await between();
  }
  return run;
}

async function listed(user: Awaited<ReturnType<typeof createSessionUser>>, id: string): Promise<UploadView | undefined> {
  const res = await call(app, "/v1/uploads?limit=100", { headers: user.headers });
  expect(res.status).toBe(200);
  return (await res.json<{ items: UploadView[] }>()).items.find((item) => item.id === id);
}

describe("D1 writes per upload", () => {
  it("are the same for a file of forty chunks over five runs as for a file of one chunk, with one narrative refresh each", async () => {
    const [big, small] = [await createSessionUser(), await createSessionUser()];
    // 40 records of 50 samples: with 50 observations a chunk, 40 chunks, 8 per run.
    const many = await seedUpload(big, await heartRateFile(40, { prefix: crypto.randomUUID(), samples: 50 }), 40);
    const one = await seedUpload(small, await heartRateFile(1, { prefix: crypto.randomUUID(), samples: 50 }), 1);

    // Between runs the narrative job runs and claims the pending request, as it would a minute
    // after the first chunks: chunks that asked on their own would then queue one message each.
    const manyRun = await ingestToTheEnd(many.message, { chunkObservations: 50, maxChunksPerRun: 8 }, async () => {
      await refreshNarratives(env, big.user.id, Date.now());
    });
    const oneRun = await ingestToTheEnd(one.message, { chunkObservations: 50 });

    expect(manyRun.outcomes).toEqual(["continued", "continued", "continued", "continued", "completed"]);
    expect(oneRun.outcomes).toEqual(["completed"]);
    expect(manyRun.writes).toEqual(oneRun.writes);
    // Started, then completed: nothing per chunk, nothing per run.
    expect(manyRun.writes).toEqual(['update "uploads" set', 'update "uploads" set']);

    const refresh = (userId: string) => [{ type: "narratives.refresh", userId }];
    expect(manyRun.refreshes).toEqual(refresh(big.user.id));
    expect(oneRun.refreshes).toEqual(refresh(small.user.id));

    expect(await getUpload(app, big, many.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 2000 } });
    expect(await getUpload(app, small, one.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 50 } });
    expect(await storedCounts(big.user.id)).toMatchObject({ observations: 2000 });
    const parts = (await env.LAKE.list({ prefix: "lake/heart_rate/" })).objects.filter((o) => o.key.includes(many.id));
    expect(parts).toHaveLength(40);
  });

  it("leave the row's counts at zero while it runs: the status and the list show the store's live progress", async () => {
    const user = await createSessionUser();
    const seeded = await seedUpload(user, await heartRateFile(20, { prefix: crypto.randomUUID(), samples: 50, bpm: 400 }), 20);
    const continuations: unknown[] = [];
    const ctx = { db: getDb(env.DB), env: { ...env, INGEST: keepingQueue(continuations) }, chunkObservations: 100 };

    expect(await ingestUpload({ ...ctx, maxChunksPerRun: 3 }, seeded.message)).toBe("continued");
    const [row] = await getDb(env.DB).select().from(uploads).where(eq(uploads.id, seeded.id));
    expect(row).toMatchObject({ status: "processing", accepted: 0, flagged: 0, chunksDone: 0 });
    const midway = { status: "processing", counts: { ...none, accepted: 300, flagged: 300 } };
    expect(await getUpload(app, user, seeded.id)).toMatchObject(midway);
    expect(await listed(user, seeded.id)).toMatchObject(midway);

    expect(await ingestUpload({ ...ctx, maxChunksPerRun: 100 }, seeded.message)).toBe("completed");
    const done = { status: "completed", counts: { ...none, accepted: 1000, flagged: 1000 } };
    expect(await getUpload(app, user, seeded.id)).toMatchObject(done);
    expect(await listed(user, seeded.id)).toMatchObject(done);
    const [final] = await getDb(env.DB).select().from(uploads).where(eq(uploads.id, seeded.id));
    expect(final).toMatchObject({ status: "completed", accepted: 1000, flagged: 1000, chunksDone: 10 });
  });

  it("two deliveries of the same message at once write each chunk once and count one pass", async () => {
    const user = await createSessionUser();
    const seeded = await seedUpload(user, await heartRateFile(30, { prefix: crypto.randomUUID(), samples: 50 }), 30);
    const ctx = { db: getDb(env.DB), env: { ...env, INGEST: keepingQueue([]) }, chunkObservations: 50 };

    const outcomes = await Promise.all([ingestUpload(ctx, seeded.message), ingestUpload(ctx, seeded.message)]);
    expect(outcomes).toContain("completed");
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 1500 } });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 1500 });
    expect(await ingestUpload(ctx, seeded.message)).toBe("skipped");
  });
});
