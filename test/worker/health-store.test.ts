import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { type HealthStoreClient, healthStoreFor } from "../../durable-objects/health-store/client";
import { STORE_MIGRATIONS } from "../../durable-objects/health-store/migrations";
import type { ObservationQuery } from "../../durable-objects/health-store/read-schema";
import type { Observation, ObservationInput, Page, StoreAuditContext } from "../../durable-objects/health-store/schema";
import { newId } from "../../src/db/ids";
import { DomainError } from "../../src/errors/domain-error";

const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

function freshStore() {
  const userId = newId("usr");
  return { userId, store: healthStoreFor(env.HEALTH_STORE, userId) };
}

function asOwner(userId: string, reason: string | null = null): StoreAuditContext {
  return { actor: userId, role: "patient", subject: userId, reason, requestId: `req-${crypto.randomUUID()}`, ip: "198.51.100.7" };
}

function heartRate(recordId: string, minute: number, value: number, version = 1): ObservationInput {
  const start = T0 + minute * 60_000;
  return {
    metric: "heart_rate",
    start,
    end: start,
    value,
    unit: "bpm",
    sourceKind: "upload",
    sourceApp: "com.google.android.apps.fitness",
    device: "Pixel Watch",
    sourceRecordId: recordId,
    zoneOffsetSeconds: 3600,
    localDate: "2026-01-15",
    version,
  };
}

/** A raw page (what every read here asks for), without the union's `resolution` tag. */
async function readRaw(stub: HealthStoreClient, query: ObservationQuery, audit: StoreAuditContext): Promise<Page<Observation>> {
  const page = await stub.queryObservations(query, audit);
  if (page.resolution !== "raw") throw new Error(`expected a raw page, got ${page.resolution}`);
  return { items: page.items, nextCursor: page.nextCursor };
}

/** RPC promises are resolved through `.catch`: vitest's `.rejects` leaves them reported as unhandled. */
/**
 * The store's own refusal: a refused argument reaches callers as a generic VALIDATION_FAILED whose
 * `cause` is what the store said, with the argument's paths (durable-objects/health-store/client.ts).
 */
function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error("expected a rejection"),
    (error: unknown) => (error instanceof Error && error.cause instanceof DomainError ? error.cause : error),
  );
}

function sqlCount(stub: HealthStoreClient, table: string): Promise<number> {
  return runInDurableObject(stub.stub, (_instance: HealthStore, state) => {
    const [row] = state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).toArray();
    return row?.n ?? -1;
  });
}

describe("HealthStore schema", () => {
  it("is migrated on first use and not again after eviction", async () => {
    const { userId, store } = freshStore();
    await store.ingest([heartRate("r1", 0, 61)], asOwner(userId));
    const versions = () =>
      runInDurableObject(store.stub, (_instance: HealthStore, state) =>
        state.storage.sql
          .exec<{ version: number }>("SELECT version FROM _migrations ORDER BY version")
          .toArray()
          .map((row) => row.version),
      );
    expect(await versions()).toEqual(STORE_MIGRATIONS.map((migration) => migration.version));

    await evictDurableObject(store.stub);
    const page = await readRaw(store, {}, asOwner(userId));

    expect(page.items.map((obs) => obs.value)).toEqual([61]);
    expect(await versions()).toEqual(STORE_MIGRATIONS.map((migration) => migration.version));
  });
});

describe("HealthStore isolation", () => {
  it("never shows one user's observations to another user's store", async () => {
    const a = freshStore();
    const b = freshStore();
    await a.store.ingest([heartRate("a-1", 0, 70), heartRate("a-1", 1, 72)], asOwner(a.userId));

    const seenByB = await readRaw(b.store, { metric: "heart_rate" }, asOwner(b.userId));

    expect(seenByB).toEqual({ items: [], nextCursor: null });
    expect(await sqlCount(b.store, "observations")).toBe(0);
    expect(await sqlCount(a.store, "observations")).toBe(2);
  });

  it("refuses a call naming another subject and writes nothing", async () => {
    const a = freshStore();
    const b = freshStore();
    await a.store.ingest([heartRate("a-1", 0, 70)], asOwner(a.userId));

    const error = await failure(a.store.ingest([heartRate("b-1", 0, 99)], asOwner(b.userId)));

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DomainError);

    expect(await sqlCount(a.store, "observations")).toBe(1);
    expect(await sqlCount(a.store, "audit_events")).toBe(1);
  });
});

describe("HealthStore ingest", () => {
  it("is idempotent when the same batch is delivered again", async () => {
    const { userId, store } = freshStore();
    const batch = [heartRate("r1", 0, 60), heartRate("r1", 1, 62), heartRate("r2", 0, 64)];

    expect(await store.ingest(batch, asOwner(userId))).toEqual({ accepted: 3, duplicate: 0, replaced: 0 });
    expect(await store.ingest(batch, asOwner(userId))).toEqual({ accepted: 0, duplicate: 3, replaced: 0 });
    expect(await store.ingest([...batch, heartRate("r1", 0, 60)], asOwner(userId))).toEqual({
      accepted: 0,
      duplicate: 4,
      replaced: 0,
    });

    const page = await readRaw(store, {}, asOwner(userId));
    expect(page.items).toHaveLength(3);
  });

  it("replaces every sample of a source record with its newer version, and ignores older ones", async () => {
    const { userId, store } = freshStore();
    await store.ingest([heartRate("r1", 0, 60, 1), heartRate("r1", 1, 61, 1), heartRate("r1", 2, 62, 1)], asOwner(userId));

    const newer = await store.ingest([heartRate("r1", 0, 80, 2), heartRate("r1", 5, 85, 2)], asOwner(userId));
    const stale = await store.ingest([heartRate("r1", 0, 60, 1)], asOwner(userId));

    expect(newer).toEqual({ accepted: 0, duplicate: 0, replaced: 2 });
    expect(stale).toEqual({ accepted: 0, duplicate: 1, replaced: 0 });
    const page = await readRaw(store, {}, asOwner(userId));
    expect(page.items.map((obs) => [obs.value, obs.version])).toEqual([
      [80, 2],
      [85, 2],
    ]);
  });

  it("stores every field and keeps out-of-range samples flagged", async () => {
    const { userId, store } = freshStore();
    const sample: ObservationInput = { ...heartRate("r9", 0, 260), flagged: true, device: null };
    await store.ingest([sample], asOwner(userId));

    const [stored] = (await readRaw(store, { metric: "heart_rate" }, asOwner(userId))).items;
    expect(stored).toEqual({ ...sample, id: expect.any(Number) });
  });

  it("handles a batch far beyond 100 bound parameters and pages through it", async () => {
    const { userId, store } = freshStore();
    const batch = Array.from({ length: 250 }, (_, i) => heartRate(`rec-${i}`, i, 50 + (i % 100)));

    expect(await store.ingest(batch, asOwner(userId))).toEqual({ accepted: 250, duplicate: 0, replaced: 0 });
    expect(await store.ingest(batch, asOwner(userId))).toEqual({ accepted: 0, duplicate: 250, replaced: 0 });

    const starts: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await readRaw(store, { limit: 100, ...(cursor ? { cursor } : {}) }, asOwner(userId));
      starts.push(...page.items.map((obs) => obs.start));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(starts).toEqual(batch.map((obs) => obs.start));
  });

  it("pages several metrics merged by (start, id), ties included", async () => {
    const { userId, store } = freshStore();
    const steps = (minute: number): ObservationInput => ({
      ...heartRate(`s${minute}`, minute, 100 + minute),
      metric: "steps",
      unit: "count",
    });
    const spo2 = (minute: number): ObservationInput => ({
      ...heartRate(`o${minute}`, minute, 95),
      metric: "oxygen_saturation",
      unit: "%",
    });
    await store.ingest(
      [...[0, 1, 2, 3].map((m) => heartRate(`h${m}`, m, 60 + m)), ...[1, 3, 5].map(steps), spo2(2)],
      asOwner(userId),
    );

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await readRaw(
        store,
        { metrics: ["steps", "heart_rate"], limit: 2, ...(cursor ? { cursor } : {}) },
        asOwner(userId),
      );
      seen.push(...page.items.map((obs) => `${obs.metric}@${(obs.start - T0) / 60_000}`));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);

    expect(seen).toEqual(["heart_rate@0", "heart_rate@1", "steps@1", "heart_rate@2", "heart_rate@3", "steps@3", "steps@5"]);
  });

  it("filters by metric and by [since, until)", async () => {
    const { userId, store } = freshStore();
    const steps: ObservationInput = { ...heartRate("s1", 3, 120), metric: "steps", unit: "count" };
    await store.ingest([heartRate("r1", 0, 60), heartRate("r1", 1, 61), heartRate("r1", 2, 62), steps], asOwner(userId));

    const page = await readRaw(store, { metric: "heart_rate", since: T0 + 60_000, until: T0 + 120_000 }, asOwner(userId));
    expect(page.items.map((obs) => obs.value)).toEqual([61]);
  });

  it("rejects invalid input with every field error and stores nothing", async () => {
    const { userId, store } = freshStore();
    const bad = { ...heartRate("r1", 0, 60), metric: "Heart Rate", end: T0 - 1, localDate: "15/01/2026" };

    const error = await failure(store.ingest([bad], asOwner(userId)));
    const cursorError = await failure(store.queryObservations({ cursor: "not-a-cursor" }, asOwner(userId)));

    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(error instanceof DomainError ? error.errors?.map((issue) => issue.path).sort() : []).toEqual([
      "batch.0.end",
      "batch.0.localDate",
      "batch.0.metric",
    ]);
    expect(cursorError).toMatchObject({ code: "VALIDATION_FAILED", errors: [{ path: "cursor" }] });
    expect((await store.accessLog()).items).toEqual([]);
  });
});

describe("HealthStore audit", () => {
  it("records every write and read with who, why and the request, newest first", async () => {
    const { userId, store } = freshStore();
    const write = asOwner(userId);
    const read = { ...asOwner(userId, "treatment review"), actor: "usr_clinician", role: "clinician" as const };
    await store.ingest([heartRate("r1", 0, 60)], write);
    await store.queryObservations({ metric: "heart_rate" }, read);

    const log = await store.accessLog();

    expect(log.nextCursor).toBeNull();
    expect(log.items).toMatchObject([
      {
        seq: 2,
        action: "observations.read",
        resource: "observations;m=heart_rate",
        actor: "usr_clinician",
        role: "clinician",
        subject: userId,
        reason: "treatment review",
        result: "success",
        requestId: read.requestId,
        ip: "198.51.100.7",
      },
      {
        seq: 1,
        action: "observations.write",
        resource: expect.stringMatching(/^observations;p=[^;]+;m=heart_rate$/),
        actor: userId,
        role: "patient",
        requestId: write.requestId,
      },
    ]);
    expect(log.items[0]?.prevHash).toBe(log.items[1]?.hash);
    expect(await store.verifyAudit()).toEqual({ ok: true, count: 2, head: { seq: 2, hash: log.items[0]?.hash } });
  });

  it("keeps the chain linear under concurrent calls and pages the access log", async () => {
    const { userId, store } = freshStore();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? store.ingest([heartRate(`r${i}`, i, 60 + i)], asOwner(userId))
          : store.queryObservations({}, asOwner(userId)),
      ),
    );

    const first = await store.accessLog({ limit: 15 });
    const rest = await store.accessLog({ limit: 15, cursor: first.nextCursor ?? "" });

    expect([...first.items, ...rest.items].map((event) => event.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    expect(rest.nextCursor).toBeNull();
    expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 20 });
  });

  it("records a denied access without touching data", async () => {
    const { userId, store } = freshStore();
    const attempt = { ...asOwner(userId, "curiosity"), actor: "usr_stranger", role: "researcher" as const };

    const event = await store.appendAuditEvent(
      { action: "observations.read", resource: "observations", result: "denied" },
      attempt,
    );

    expect(event).toMatchObject({ seq: 1, result: "denied", actor: "usr_stranger" });
    expect((await store.accessLog()).items).toEqual([event]);
  });

  it("detects an audit row changed in storage", async () => {
    const { userId, store } = freshStore();
    await store.ingest([heartRate("r1", 0, 60)], asOwner(userId));
    await store.queryObservations({}, asOwner(userId));
    await store.queryObservations({}, asOwner(userId));

    await runInDurableObject(store.stub, (_instance: HealthStore, state) => {
      state.storage.sql.exec("UPDATE audit_events SET actor = 'usr_someone_else' WHERE seq = 2");
    });

    expect(await store.verifyAudit()).toMatchObject({ ok: false, brokenAt: 2, problem: "hash_mismatch", count: 1 });
  });
});

describe("HealthStore deleteAll", () => {
  it("erases the data and the audit, and the store starts empty again", async () => {
    const { userId, store } = freshStore();
    await store.ingest([heartRate("r1", 0, 60), heartRate("r2", 0, 61)], asOwner(userId));

    await store.deleteAll();

    const tables = await runInDurableObject(store.stub, (_instance: HealthStore, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
        .toArray(),
    );
    expect(tables).toEqual([]);
    expect(await readRaw(store, {}, asOwner(userId))).toEqual({ items: [], nextCursor: null });
    expect(await store.verifyAudit()).toMatchObject({ ok: true, count: 1 });
  });
});

describe("HealthStore errors over RPC", () => {
  it("answers an expected failure as a value, so workerd never reports it as an uncaught rejection", async () => {
    const { userId, store } = freshStore();
    // The raw stub resolves: a rejected RPC promise would be logged as "Uncaught (in promise)".
    const raw = await store.stub.getVaultBlob("missing-blob", asOwner(userId));
    expect(raw).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
  });

  it("gives callers of the client the same DomainError the store meant, with every field error", async () => {
    const { userId, store } = freshStore();
    const missing = await failure(store.getVaultBlob("missing-blob", asOwner(userId)));
    expect(missing).toBeInstanceOf(DomainError);
    expect(missing).toMatchObject({ code: "NOT_FOUND" });

    const invalid = await failure(store.ingest([{ ...heartRate("r1", 0, 61), value: Number.NaN }], asOwner(userId)));
    expect(invalid).toBeInstanceOf(DomainError);
    expect(invalid).toMatchObject({ code: "VALIDATION_FAILED", errors: [expect.objectContaining({ path: expect.any(String) })] });
  });

  it("answers a refused argument generically, without the store's internal paths", async () => {
    const { userId, store } = freshStore();
    const refused = await store.ingest([{ ...heartRate("r1", 0, 61), value: Number.NaN }], asOwner(userId)).catch((e) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: "VALIDATION_FAILED", errors: undefined });
    expect(JSON.stringify(refused.detail)).not.toMatch(/batch/);
  });
});
