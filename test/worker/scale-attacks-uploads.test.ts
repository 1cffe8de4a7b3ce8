/**
 * Uploads attacked where a re-sent file meets a dependency that fails: the re-sent copy reached R2
 * before Pulse knew it was a re-send, so whatever fails next must not leave that copy behind, a
 * file of health data no upload row names and no retention pass would ever find.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { DELETION_STEPS } from "../../src/deletion/steps";
import { ingestUpload } from "../../src/uploads/ingest-upload";
import { type D1Rule, d1Error, durableObjectOverloaded, faultyD1 } from "./helpers/faults";
import { createSessionUser } from "./helpers/session-user";
import { call } from "./helpers/test-app";
import { seedUpload } from "./helpers/upload-api";
import { heartRateFile } from "./helpers/upload-files";

const app = createApp();

/** The HEALTH_STORE namespace with this one user's store refusing calls as an overloaded object does. */
function overloadedStoreOf(userId: string): Env["HEALTH_STORE"] {
  const hotId = env.HEALTH_STORE.idFromName(userId);
  const refusing = new Proxy(
    {},
    { get: (_target, name) => (name === "then" ? undefined : () => Promise.reject(durableObjectOverloaded())) },
  );
  return {
    idFromName: (name: string) => env.HEALTH_STORE.idFromName(name),
    get: (id: DurableObjectId) => (id.equals(hotId) ? refusing : env.HEALTH_STORE.get(id)),
  } as unknown as Env["HEALTH_STORE"];
}

async function rawKeysOf(userId: string): Promise<string[]> {
  const listed = await env.LAKE.list({ prefix: `raw/${userId}/` });
  return listed.objects.map((object) => object.key);
}

describe("a re-sent file of an unfinished upload", () => {
  it("leaves no copy in R2 when the store that says whether it stalled is unavailable (503)", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(5, { prefix: crypto.randomUUID() });
    // Processing, its row untouched for five minutes: only the store can say whether it moves.
    const seeded = await seedUpload(user, bytes, 5, { status: "processing", updatedAt: new Date(Date.now() - 5 * 60_000) });

    const res = await call(
      app,
      "/v1/uploads",
      { method: "POST", headers: { ...user.headers, "Content-Type": "application/avro" }, body: bytes },
      { HEALTH_STORE: overloadedStoreOf(user.user.id) },
    );
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await rawKeysOf(user.user.id)).toEqual([seeded.key]);
  });
});

describe("a re-sent file of a completed upload", () => {
  it("leaves no copy in R2 when D1 fails while finding the upload it repeats (503)", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(5, { prefix: crypto.randomUUID() });
    const seeded = await seedUpload(user, bytes, 5);
    await getDb(env.DB).update(uploads).set({ status: "completed" }).where(eq(uploads.id, seeded.id));
    let conflicted = false;
    const rule: D1Rule = (sql) => {
      if (/^insert into "uploads"/i.test(sql)) conflicted = true;
      else if (conflicted && /from "uploads"/i.test(sql)) return d1Error("Network connection lost.");
      return undefined;
    };

    const res = await call(
      app,
      "/v1/uploads",
      { method: "POST", headers: { ...user.headers, "Content-Type": "application/avro" }, body: bytes },
      { DB: faultyD1(env.DB, rule) },
    );
    expect(conflicted).toBe(true);
    expect(res.status).toBe(503);
    expect(await rawKeysOf(user.user.id)).toEqual([seeded.key]);
  });
});

/** Every lake part key naming this user, all metrics and days. */
async function lakeKeysOf(userId: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LAKE.list({ prefix: "lake/", cursor });
    keys.push(...page.objects.map((object) => object.key).filter((key) => key.includes(`/${userId}/`)));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return keys;
}

describe("an upload ingesting while its person deletes their account", () => {
  it("writes no lake part once the deletion has removed the uploads: none is left behind", async () => {
    const user = await createSessionUser();
    const userId = user.user.id;
    const seeded = await seedUpload(user, await heartRateFile(300, { prefix: crypto.randomUUID() }), 300);
    const steps = (names: string[]) =>
      DELETION_STEPS.filter((step) => names.includes(step.name)).reduce(
        (done, step) =>
          done.then(() =>
            step.run({
              env,
              db: getDb(env.DB),
              userId,
              audit: { actor: "system:deletion", role: "system", reason: null, requestId: null, ip: null },
              resumeFrom: null,
              checkpoint: async () => undefined,
              lakePartitionsPerRun: 400,
            }),
          ),
        Promise.resolve<unknown>(undefined),
      );

    // The deletion's first steps run right after the job wrote its first chunk's lake part.
    let deleting: Promise<unknown> | undefined;
    const lake = new Proxy(env.LAKE, {
      get(target, name) {
        if (name === "put") {
          return async (...args: Parameters<R2Bucket["put"]>) => {
            const written = await target.put(...args);
            deleting ??= steps(["uploads", "lake"]);
            await deleting;
            return written;
          };
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await ingestUpload({ db: getDb(env.DB), env: { ...env, LAKE: lake }, chunkObservations: 100 }, seeded.message);
    expect(deleting).toBeDefined();
    await steps(["store", "account_rows", "store_sweep"]);

    expect(await lakeKeysOf(userId)).toEqual([]);
  });
});
