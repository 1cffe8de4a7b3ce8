import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { type HealthStoreClient, healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationBucket } from "../../durable-objects/health-store/read-schema";
import type { Observation, ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import { offsetMsAt, utcOfLocal, type Zone } from "../../durable-objects/health-store/zone";
import { newId } from "../../src/db/ids";

/**
 * The quarter-hour rollups against the samples they summarize. A seeded random history (new
 * records, re-sent ones, records grown at the same version, newer and older versions, flagged
 * values) goes in as several batches; then the rollup table must equal a recomputation from the
 * samples, the samples must equal a model of the versioning rules, and hour and day buckets in
 * several zones must equal buckets computed here from the raw samples.
 */
const T0 = Date.UTC(2026, 2, 27, 0, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const METRICS = [
  { metric: "heart_rate", unit: "bpm" },
  { metric: "blood_glucose", unit: "mg/dL" },
  { metric: "steps", unit: "count" },
];

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function history(seed: number) {
  const next = random(seed);
  const int = (max: number) => Math.floor(next() * max);
  const record = (id: string, version: number): ObservationInput[] => {
    const { metric, unit } = METRICS[int(METRICS.length)] ?? { metric: "heart_rate", unit: "bpm" };
    const first = T0 + int(3 * DAY);
    return Array.from({ length: 1 + int(40) }, (_, i) => {
      const start = first + i * (1 + int(400_000));
      return {
        metric,
        unit,
        start,
        end: metric === "steps" ? start + 60_000 : start,
        // Quarter units keep every sum exact in binary floating point.
        value: 40 + int(800) / 4,
        sourceKind: "upload",
        sourceApp: "com.example",
        sourceRecordId: id,
        localDate: new Date(start).toISOString().slice(0, 10),
        flagged: next() < 0.1,
        version,
      };
    });
  };
  const v1 = Array.from({ length: 40 }, (_, i) => record(`r${i}`, 1));
  const grown = v1
    .slice(20, 25)
    .map((samples) => [...samples, ...samples.map((obs) => ({ ...obs, start: obs.start + 7_777, end: obs.end + 7_777 }))]);
  const newer = v1.slice(25, 32).map((samples, i) => record(samples[0]?.sourceRecordId ?? `x${i}`, 2));
  const older = v1.slice(32, 36).map((samples) => samples.map((obs) => ({ ...obs, version: 0, value: 1 })));
  return [
    v1.slice(0, 30).flat(),
    [...v1.slice(0, 10).flat(), ...grown.flat(), ...v1.slice(30).flat()],
    [...newer.flat(), ...older.flat(), ...v1.slice(36, 38).flat()],
  ];
}

/** What the store must hold: per record, the samples of its highest version, unique by (metric, start). */
function model(batches: ObservationInput[][]): Map<string, ObservationInput> {
  const records = new Map<string, { version: number; samples: Map<string, ObservationInput> }>();
  for (const batch of batches) {
    for (const obs of batch) {
      const version = obs.version ?? 0;
      const known = records.get(obs.sourceRecordId);
      if (known === undefined || version > known.version) records.set(obs.sourceRecordId, { version, samples: new Map() });
      const record = records.get(obs.sourceRecordId);
      const key = `${obs.metric}@${obs.start}`;
      if (record?.version === version && !record.samples.has(key)) record.samples.set(key, obs);
    }
  }
  return new Map(
    [...records.values()].flatMap(({ samples }) =>
      [...samples.values()].map((obs) => [`${obs.sourceRecordId}/${obs.metric}@${obs.start}`, obs]),
    ),
  );
}

function expectedBuckets(
  observations: readonly Observation[],
  metrics: readonly string[],
  zone: Zone,
  resolution: "hour" | "day",
  since: number,
  until: number,
) {
  const buckets = new Map<string, ObservationBucket & { position: number }>();
  for (const obs of observations) {
    const position = metrics.indexOf(obs.metric);
    if (obs.flagged || position < 0 || obs.start < since || obs.start >= until) continue;
    const offset = offsetMsAt(zone, obs.start);
    const size = resolution === "hour" ? HOUR : DAY;
    const key = Math.floor((obs.start + offset) / size);
    const start = resolution === "hour" ? key * HOUR - offset : utcOfLocal(zone, key * DAY);
    const end = resolution === "hour" ? start + HOUR : utcOfLocal(zone, (key + 1) * DAY);
    const id = `${start}/${obs.metric}`;
    const b = buckets.get(id) ?? {
      metric: obs.metric,
      start,
      end,
      count: 0,
      sum: 0,
      min: obs.value,
      max: obs.value,
      avg: 0,
      position,
    };
    b.count += 1;
    b.sum += obs.value;
    b.min = Math.min(b.min, obs.value);
    b.max = Math.max(b.max, obs.value);
    b.avg = b.sum / b.count;
    buckets.set(id, b);
  }
  return [...buckets.values()]
    .sort((a, b) => a.start - b.start || a.position - b.position)
    .map(({ position: _position, ...bucket }) => bucket);
}

const owner = (userId: string): StoreAuditContext => ({
  actor: userId,
  role: "patient",
  subject: userId,
  reason: null,
  requestId: null,
  ip: null,
});

async function allRaw(store: HealthStoreClient, userId: string): Promise<Observation[]> {
  const items: Observation[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryObservations({ limit: 5_000, ...(cursor === undefined ? {} : { cursor }) }, owner(userId));
    if (page.resolution !== "raw") throw new Error("expected raw");
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

const ZONES: Record<string, Zone> = {
  utc: { offsetMinutes: 0, changes: [] },
  kathmandu: { offsetMinutes: 345, changes: [] },
  newfoundland: { offsetMinutes: -210, changes: [] },
  // Not a multiple of 15 minutes: read from the samples, not the rollups.
  odd: { offsetMinutes: 20, changes: [] },
  // Europe/Paris on 2026-03-29: +01:00 until 01:00Z, then +02:00.
  paris: { offsetMinutes: 60, changes: [{ at: Date.UTC(2026, 2, 29, 1), offsetMinutes: 120 }] },
};

describe("HealthStore rollups", () => {
  for (const seed of [1, 2, 3]) {
    it(`stay exact through duplicates, growth and new versions (seed ${seed})`, async () => {
      const userId = newId("usr");
      const store = healthStoreFor(env.HEALTH_STORE, userId);
      const batches = history(seed);
      const results = [];
      for (const observations of batches) results.push((await store.ingestBatch({ observations }, owner(userId))).observations);
      // Every path is taken: re-sent samples, records grown at their version, replaced records.
      expect(results[1]?.duplicate).toBeGreaterThan(0);
      expect(results[1]?.accepted).toBeGreaterThan(0);
      expect(results[2]?.replaced).toBeGreaterThan(0);

      const stored = await allRaw(store, userId);
      const expected = model(batches);
      expect(stored.map((obs) => `${obs.sourceRecordId}/${obs.metric}@${obs.start}=${obs.value}`).sort()).toEqual(
        [...expected.entries()].map(([key, obs]) => `${key}=${obs.value}`).sort(),
      );

      const [rollups, recomputed] = await runInDurableObject(store.stub, (_instance: HealthStore, state) => {
        const sql = state.storage.sql;
        return [
          sql.exec("SELECT * FROM observation_rollups ORDER BY metric, slot").toArray(),
          sql
            .exec(
              `SELECT metric, start_ms / 900000 AS slot, COUNT(*) AS sample_count, SUM(value) AS value_sum, MIN(value) AS value_min,
                 MAX(value) AS value_max FROM observations WHERE flagged = 0 GROUP BY metric, slot ORDER BY metric, slot`,
            )
            .toArray(),
        ];
      });
      expect(rollups).toEqual(recomputed);

      const metrics = ["steps", "heart_rate", "blood_glucose"];
      const since = T0 + 7 * 60_000 + 13_000;
      const until = T0 + 3 * DAY - 11 * 60_000 - 1;
      for (const [name, zone] of Object.entries(ZONES)) {
        for (const resolution of ["hour", "day"] as const) {
          const page = await store.queryObservations({ metrics, resolution, zone, since, until, limit: 5_000 }, owner(userId));
          const buckets = expectedBuckets(stored, metrics, zone, resolution, since, until);
          expect(buckets.length).toBeGreaterThan(resolution === "hour" ? 30 : 5);
          expect(page.items, `${name} ${resolution}`).toEqual(buckets);
        }
      }
    });
  }

  it("pages buckets without losing or repeating one", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    for (const observations of history(4)) await store.ingestBatch({ observations }, owner(userId));
    const query = {
      metrics: ["heart_rate", "steps"],
      resolution: "hour" as const,
      since: T0,
      until: T0 + 3 * DAY,
      zone: ZONES.paris,
    };

    const whole = await store.queryObservations({ ...query, limit: 5_000 }, owner(userId));
    const paged: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.queryObservations(
        { ...query, limit: 7, ...(cursor === undefined ? {} : { cursor }) },
        owner(userId),
      );
      paged.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);

    expect(whole.items.length).toBeGreaterThan(20);
    expect(paged).toEqual(whole.items);
  });
});
