import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor, setHealthStoreDeadline } from "../../durable-objects/health-store/client";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { createApp } from "../../src/app";
import type { UploadReceipt } from "../../src/uploads/uploads";
import { durableObjectOverloaded } from "./helpers/faults";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call } from "./helpers/test-app";
import { postFile, storedCounts, waitForUpload } from "./helpers/upload-api";
import { heartRateFile } from "./helpers/upload-files";

const app = createApp();
const LATEST = "/v1/observations/latest?metrics=heart_rate";
const AT = Date.UTC(2026, 0, 15, 8);

function system(userId: string): StoreAuditContext {
  return { actor: "etl", role: "system", subject: userId, reason: null, requestId: null, ip: null };
}

/** A signed-in user whose store holds one heart-rate sample of `bpm`. */
async function userWithHeartRate(bpm: number): Promise<SessionUser> {
  const user = await createSessionUser();
  await healthStoreFor(env.HEALTH_STORE, user.user.id).ingest(
    [observationInput("heart_rate", "bpm", AT, bpm)],
    system(user.user.id),
  );
  return user;
}

function get(user: SessionUser, path: string, bindings: Partial<Env> = {}): Promise<Response> {
  return call(app, path, { headers: user.headers }, bindings);
}

async function latestBpm(res: Response): Promise<number | undefined> {
  if (res.status !== 200) expect.fail(`expected 200, got ${res.status}: ${await res.text()}`);
  const body = await res.json<{ items: { metric: string; value: number }[] }>();
  return body.items.find((item) => item.metric === "heart_rate")?.value;
}

/** A request's response, and whether it has arrived yet. */
function watch(response: Promise<Response>): { response: Promise<Response>; settled: () => boolean } {
  let settled = false;
  const tracked = response.finally(() => {
    settled = true;
  });
  return { response: tracked, settled: () => settled };
}

type Latest = HealthStore["latest"];

/**
 * Replaces `latest` for this one user's HealthStore instance only: RPC calls only prototype
 * methods, so the prototype's method is wrapped and hands every other instance to the real one.
 * `behave` runs in place of the real call; `restore` puts the real method back.
 */
async function patchLatest(userId: string, behave: (real: Latest) => Latest): Promise<{ restore: () => Promise<void> }> {
  const stub = healthStoreFor(env.HEALTH_STORE, userId).stub;
  const restore = await runInDurableObject(stub, (target: HealthStore) => {
    const prototype = Object.getPrototypeOf(target) as HealthStore;
    const real = prototype.latest;
    prototype.latest = function (this: HealthStore, ...args: Parameters<Latest>) {
      return this === target ? behave(real.bind(this))(...args) : real.apply(this, args);
    };
    return () => {
      prototype.latest = real;
    };
  });
  return { restore: async () => restore() };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

/**
 * A store whose `latest` waits until the test releases it. The two sides share only plain flags:
 * a promise made by the test and awaited inside the object would carry the test's I/O context
 * into the object's.
 */
async function stallLatest(userId: string) {
  const state = { arrived: false, released: false };
  const patch = await patchLatest(userId, (real) => async (...args) => {
    state.arrived = true;
    while (!state.released) await tick();
    return real(...args);
  });
  return {
    /** Resolves once a call is waiting inside the store. */
    arrived: async () => {
      for (let i = 0; i < 2_000 && !state.arrived; i++) await tick();
      if (!state.arrived) expect.fail("no call reached the stalled store");
    },
    release: () => {
      state.released = true;
    },
    restore: patch.restore,
  };
}

describe("one person's HealthStore failing", () => {
  it("a stuck store holds only its owner's request: other people's reads complete meanwhile", async () => {
    const stuck = await userWithHeartRate(71);
    const others = await Promise.all([userWithHeartRate(62), userWithHeartRate(63), userWithHeartRate(64)]);
    const stall = await stallLatest(stuck.user.id);
    try {
      const pending = watch(get(stuck, LATEST));
      await stall.arrived();

      for (const [i, other] of others.entries()) {
        expect(await latestBpm(await get(other, LATEST))).toBe(62 + i);
        expect((await get(other, "/v1/summary/daily?date=2026-01-15")).status).toBe(200);
      }
      expect(pending.settled()).toBe(false);

      stall.release();
      expect(await latestBpm(await pending.response)).toBe(71);
    } finally {
      stall.release();
      await stall.restore();
    }
  });

  it("a stuck store answers its owner 503 with Retry-After at the deadline, not never", async () => {
    const stuck = await userWithHeartRate(72);
    const stall = await stallLatest(stuck.user.id);
    const restoreDeadline = setHealthStoreDeadline(500);
    try {
      const res = await get(stuck, LATEST);
      expect(res.status).toBe(503);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      expect(res.headers.get("Retry-After")).toBe("10");
      expect(await res.json()).toMatchObject({
        code: "SERVICE_UNAVAILABLE",
        detail: "Your health data store did not answer in time; retry shortly.",
      });
    } finally {
      restoreDeadline();
      stall.release();
      await stall.restore();
    }
    // Once the store answers again, so does the route.
    expect(await latestBpm(await get(stuck, LATEST))).toBe(72);
  });

  it("a store that throws answers its owner a generic 500, and no one else", async () => {
    const broken = await userWithHeartRate(73);
    const other = await userWithHeartRate(65);
    let thrown = 0;
    const patch = await patchLatest(broken.user.id, () => async () => {
      thrown++;
      throw new Error("page 4711 of the store's SQLite is corrupt");
    });
    try {
      const res = await get(broken, LATEST);
      expect(res.status).toBe(500);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      const text = await res.text();
      expect(text).not.toContain("4711");
      expect(JSON.parse(text)).toMatchObject({ code: "INTERNAL", detail: "An unexpected error occurred." });
      expect(thrown).toBe(1);
      expect(await latestBpm(await get(other, LATEST))).toBe(65);
    } finally {
      await patch.restore();
    }
  });

  it("an overloaded store answers its owner 503 with Retry-After; other stores answer", async () => {
    const hot = await createSessionUser();
    const other = await userWithHeartRate(66);
    const hotId = env.HEALTH_STORE.idFromName(hot.user.id);
    // The runtime refuses calls to an overloaded object at the caller, before they reach it.
    const refusing = new Proxy(
      {},
      { get: (_target, name) => (name === "then" ? undefined : () => Promise.reject(durableObjectOverloaded())) },
    );
    const namespace = {
      idFromName: (name: string) => env.HEALTH_STORE.idFromName(name),
      get: (id: DurableObjectId) => (id.equals(hotId) ? refusing : env.HEALTH_STORE.get(id)),
    } as unknown as Env["HEALTH_STORE"];

    const res = await get(hot, LATEST, { HEALTH_STORE: namespace });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("10");
    expect(await res.json()).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      detail: "Your health data store is briefly unavailable; retry shortly.",
    });
    expect(await latestBpm(await get(other, LATEST, { HEALTH_STORE: namespace }))).toBe(66);
  });
});

describe("a hot user", () => {
  it("100 uploads in a burst: 10 accepted by their own quota, the rest 429; another user's upload is still accepted; nothing accepted is lost", async () => {
    const hot = await createSessionUser();
    const other = await createSessionUser();
    // Distinct files (ids and times), so none is a re-send of another.
    const files = await Promise.all(
      Array.from({ length: 100 }, (_, i) => heartRateFile(3, { prefix: `burst-${i}`, first: i * 3 })),
    );
    const responses = await Promise.all(files.map((file) => postFile(app, hot, file)));

    const accepted = responses.filter((res) => res.status === 202);
    const limited = responses.filter((res) => res.status === 429);
    expect(accepted).toHaveLength(10);
    expect(limited).toHaveLength(90);
    for (const res of limited) {
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
      expect(Number(res.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
      expect(res.headers.get("RateLimit-Limit")).toBe("10");
      expect(await res.json()).toMatchObject({ code: "RATE_LIMITED" });
    }

    // Right after the burst, someone else's upload is theirs to spend, and is ingested.
    const mine = await postFile(app, other, await heartRateFile(5, { prefix: "other" }));
    expect(mine.status).toBe(202);
    const receipt = await mine.json<UploadReceipt>();
    expect(await waitForUpload(app, other, receipt.uploadId)).toMatchObject({ status: "completed", counts: { accepted: 5 } });
    expect((await storedCounts(other.user.id)).observations).toBe(5);

    // Every upload the hot user was told was accepted is ingested: 10 files of 3 samples.
    const receipts = await Promise.all(accepted.map((res) => res.json<UploadReceipt>()));
    for (const { uploadId } of receipts) {
      expect(await waitForUpload(app, hot, uploadId)).toMatchObject({ status: "completed", counts: { accepted: 3 } });
    }
    expect((await storedCounts(hot.user.id)).observations).toBe(30);
  }, 120_000);
});
