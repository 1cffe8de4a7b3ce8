import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";
import { describeEvent } from "../../src/access-log/describe";
import { parseAuditResource } from "../../src/audit/resource";
import { exportBuildJob, exportKey } from "../../src/exports/build-job";
import type { ExportReceipt } from "../../src/exports/exports";
import type { ExportBuildMessage } from "../../src/exports/schema";
import { patientId } from "../../src/fhir/ids";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * `GET /v1/me/export/fhir` end to end in workerd, and `fhir/bundle.json` of the account archive:
 * the resources of fixed stored data, in order and complete, both formats, the period, the audit
 * events, other users, and a failure part-way.
 */
const app = createTestApp();
const BASE = "http://localhost/v1/fhir";
const T0 = Date.parse("2026-03-01T00:00:00Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Resources per store page (src/fhir/export-stream.ts). */
const PAGE = 2_000;

interface Entry {
  fullUrl: string;
  resource: { resourceType: string; id: string; subject?: { reference: string } };
}
interface Bundle {
  resourceType: string;
  type: string;
  entry: Entry[];
}

const seedAudit = (userId: string) =>
  ({ actor: "test", role: "system", reason: null, requestId: null, ip: null, subject: userId }) as const;

async function seed(
  userId: string,
  batch: { observations?: ObservationInput[]; sleepSessions?: SleepSessionInput[]; workouts?: WorkoutInput[] },
) {
  const store = healthStoreFor(env.HEALTH_STORE, userId);
  const observations = batch.observations ?? [];
  for (let i = 0; i < Math.max(observations.length, 1); i += 5_000) {
    await store.ingestBatch(
      {
        observations: observations.slice(i, i + 5_000),
        ...(i === 0 ? { sleepSessions: batch.sleepSessions ?? [], workouts: batch.workouts ?? [] } : {}),
      },
      seedAudit(userId),
    );
  }
}

function minutes(metric: string, unit: string, count: number, from = T0, extra: Partial<ObservationInput> = {}) {
  return Array.from({ length: count }, (_, i) =>
    observationInput(metric, unit, from + i * MINUTE, 60 + (i % 40), { device: "Pixel Watch 3", ...extra }),
  );
}

function bloodPressure(start: number, systolic: number, diastolic: number, record: string): ObservationInput[] {
  return [
    observationInput("blood_pressure_systolic", "mmHg", start, systolic, { sourceRecordId: record }),
    observationInput("blood_pressure_diastolic", "mmHg", start, diastolic, { sourceRecordId: record }),
  ];
}

const source = { sourceKind: "upload" as const, sourceApp: "com.example.health", version: 1 };
const night = (start: number, record: string): SleepSessionInput => ({
  ...source,
  sourceRecordId: record,
  start,
  end: start + 8 * HOUR,
  localDate: new Date(start + 8 * HOUR).toISOString().slice(0, 10),
  device: "Oura Ring 4",
  stages: [
    { stage: "light", start, end: start + 4 * HOUR },
    { stage: "deep", start: start + 4 * HOUR, end: start + 8 * HOUR },
  ],
});
const run = (start: number, record: string): WorkoutInput => ({
  ...source,
  sourceRecordId: record,
  start,
  end: start + HOUR,
  localDate: new Date(start).toISOString().slice(0, 10),
  exerciseType: "running",
});

function exportFhir(user: SessionUser, query = ""): Promise<Response> {
  return call(app, `/v1/me/export/fhir${query}`, { headers: user.headers });
}

async function bundleOf(user: SessionUser, query = ""): Promise<Bundle> {
  const res = await exportFhir(user, query);
  if (res.status !== 200) expect.fail(`export answered ${res.status}: ${await res.text()}`);
  return JSON.parse(await res.text()) as Bundle;
}

/** Stored row ids of a metric, oldest first, as the read API answers them. */
async function rowIds(userId: string, metric: string): Promise<number[]> {
  const store = healthStoreFor(env.HEALTH_STORE, userId);
  const ids: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryObservations({ metric, since: 0, limit: 5_000, cursor }, seedAudit(userId));
    if (page.resolution !== "raw") throw new Error("raw expected");
    ids.push(...page.items.map((item) => item.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

/** A user with two sample metrics, blood pressure (two panels, one lone systolic, one lone diastolic), sleep and a workout. */
async function seededUser() {
  const user = await createSessionUser();
  const id = user.user.id;
  await seed(id, {
    observations: [
      ...minutes("heart_rate", "bpm", 4_500),
      ...minutes("steps", "count", 3, T0 + 10 * HOUR, { device: null }),
      ...bloodPressure(T0 + 2 * HOUR, 120, 80, "bp-1"),
      ...bloodPressure(T0 + 30 * HOUR, 131, 85, "bp-2"),
      observationInput("blood_pressure_systolic", "mmHg", T0 + 40 * HOUR, 118, { sourceRecordId: "bp-3" }),
      observationInput("blood_pressure_diastolic", "mmHg", T0 + 41 * HOUR, 79, { sourceRecordId: "bp-4" }),
    ],
    sleepSessions: [night(T0 - 2 * HOUR, "night-1"), night(T0 + 22 * HOUR, "night-2")],
    workouts: [run(T0 + 17 * HOUR, "run-1")],
  });
  const store = healthStoreFor(env.HEALTH_STORE, id);
  const systolic = await rowIds(id, "blood_pressure_systolic");
  const diastolic = await rowIds(id, "blood_pressure_diastolic");
  const sleep = (await store.listSleep({ since: 0, limit: 10 }, seedAudit(id))).items.map((s) => s.id);
  const workouts = (await store.listWorkouts({ since: 0, limit: 10 }, seedAudit(id))).items.map((w) => w.id);
  const expectedIds = [
    `Patient/${patientId(id)}`,
    ...(await rowIds(id, "heart_rate")).map((row) => `Observation/obs-${row}`),
    ...(await rowIds(id, "steps")).map((row) => `Observation/obs-${row}`),
    // Panels by the systolic row, the lone systolic as a sample; then the lone diastolic.
    `Observation/bp-${systolic[0]}`,
    `Observation/bp-${systolic[1]}`,
    `Observation/obs-${systolic[2]}`,
    `Observation/obs-${diastolic[2]}`,
    ...sleep.map((s) => `Observation/sleep-${s}`),
    ...workouts.map((w) => `Observation/workout-${w}`),
  ];
  return { user, expectedIds };
}

const idOf = (resource: { resourceType: string; id: string }) => `${resource.resourceType}/${resource.id}`;

describe("GET /v1/me/export/fhir", () => {
  it("streams a collection Bundle: the Patient, every Observation in order, then the Devices", async () => {
    const { user, expectedIds } = await seededUser();
    const res = await exportFhir(user);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/fhir+json");
    expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="pulse-fhir-exp_[a-z2-7]{26}\.json"$/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const bundle = JSON.parse(await res.text()) as Bundle;
    expect(bundle.resourceType).toBe("Bundle");
    expect(bundle.type).toBe("collection");

    const ids = bundle.entry.map((entry) => idOf(entry.resource));
    // 4,500 heart-rate samples span three store pages; 2 devices: the watch and the ring.
    expect(ids.slice(0, expectedIds.length)).toEqual(expectedIds);
    expect(ids).toHaveLength(expectedIds.length + 2);
    expect(expectedIds).toHaveLength(1 + 4_500 + 3 + 4 + 2 + 1);
    expect(new Set(ids).size).toBe(ids.length);
    const devices = bundle.entry.slice(expectedIds.length).map((entry) => entry.resource);
    expect(devices.map((device) => device.resourceType)).toEqual(["Device", "Device"]);

    for (const entry of bundle.entry) expect(entry.fullUrl).toBe(`${BASE}/${idOf(entry.resource)}`);
    for (const entry of bundle.entry.slice(1, expectedIds.length))
      expect(entry.resource.subject?.reference).toBe(`Patient/${patientId(user.user.id)}`);
  });

  it("streams NDJSON, one resource a line, the same resources in the same order", async () => {
    const { user, expectedIds } = await seededUser();
    const res = await exportFhir(user, "?format=ndjson");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/fhir+ndjson");
    expect(res.headers.get("Content-Disposition")).toMatch(/\.ndjson"$/);
    const text = new TextDecoder().decode(await res.arrayBuffer());
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    const resources = lines.map((line) => JSON.parse(line) as Entry["resource"]);
    expect(resources.map(idOf).slice(0, expectedIds.length)).toEqual(expectedIds);
    expect(resources).toHaveLength(expectedIds.length + 2);
  });

  it("pages exactly at the page size and one past it without losing or repeating a resource", async () => {
    const user = await createSessionUser();
    await seed(user.user.id, {
      observations: [
        ...minutes("heart_rate", "bpm", PAGE, T0, { device: null }),
        ...minutes("respiratory_rate", "/min", PAGE + 1, T0, { device: null }),
        ...minutes("oxygen_saturation", "%", 1, T0, { device: null }).map((o) => ({ ...o, value: 97 })),
      ],
    });
    const bundle = await bundleOf(user);
    const ids = bundle.entry.map((entry) => idOf(entry.resource));
    const expected = [
      `Patient/${patientId(user.user.id)}`,
      ...(await rowIds(user.user.id, "heart_rate")).map((row) => `Observation/obs-${row}`),
      ...(await rowIds(user.user.id, "oxygen_saturation")).map((row) => `Observation/obs-${row}`),
      ...(await rowIds(user.user.id, "respiratory_rate")).map((row) => `Observation/obs-${row}`),
    ];
    expect(expected).toHaveLength(1 + PAGE + 1 + PAGE + 1);
    expect(ids).toEqual(expected);
  });

  it("keeps to since and until: samples starting inside, sessions overlapping", async () => {
    const { user } = await seededUser();
    // [T0 + 1 h, T0 + 23 h): heart rate minutes 60..1379, steps, the first panel, the workout,
    // the second night (starts T0 + 22 h) and the first (ends T0 + 6 h); no later blood pressure.
    const since = new Date(T0 + HOUR).toISOString();
    const until = new Date(T0 + 23 * HOUR).toISOString();
    const bundle = await bundleOf(user, `?since=${since}&until=${until}`);
    const resources = bundle.entry.map((entry) => entry.resource);
    const heartRate = await rowIds(user.user.id, "heart_rate");
    const kinds = (prefix: string) => resources.filter((r) => r.resourceType === "Observation" && r.id.startsWith(prefix));
    const samples = kinds("obs-").map((r) => r.id);
    expect(samples.slice(0, 1_320)).toEqual(heartRate.slice(60, 1_380).map((row) => `obs-${row}`));
    expect(samples).toHaveLength(1_320 + 3);
    expect(kinds("bp-")).toHaveLength(1);
    expect(kinds("sleep-")).toHaveLength(2);
    expect(kinds("workout-")).toHaveLength(1);

    // A date is UTC midnight: the day before T0 has the first night only (it starts at 22:00).
    const dayBefore = await bundleOf(user, "?since=2026-02-28&until=2026-03-01");
    expect(dayBefore.entry.map((e) => e.resource.id).filter((id) => !id.startsWith("dev-"))).toEqual([
      patientId(user.user.id),
      expect.stringMatching(/^sleep-\d+$/),
    ]);
  });

  it("answers bad parameters with a problem document before streaming anything", async () => {
    const user = await createSessionUser();
    await expectProblem(await exportFhir(user, "?since=yesterday"), 400, "VALIDATION_FAILED");
    await expectProblem(await exportFhir(user, "?since=2026-03-02&until=2026-03-01"), 400, "VALIDATION_FAILED");
    await expectProblem(await exportFhir(user, "?format=xml"), 400, "VALIDATION_FAILED");
    await expectProblem(await exportFhir(user, "?userId=usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"), 400, "VALIDATION_FAILED");
    await expectProblem(await exportFhir(user, `?since=${"9".repeat(41)}`), 400, "VALIDATION_FAILED");
  });

  it("exports only the caller's own data", async () => {
    const { user: owner } = await seededUser();
    const stranger = await createSessionUser();
    const bundle = await bundleOf(stranger);
    expect(bundle.entry.map((entry) => idOf(entry.resource))).toEqual([`Patient/${patientId(stranger.user.id)}`]);
    // The owner's access log has no event of the stranger's export.
    const log = await healthStoreFor(env.HEALTH_STORE, owner.user.id).accessLog({ limit: 100 });
    expect(log.items.filter((event) => event.actor === stranger.user.id)).toHaveLength(0);
  });

  it("records the export and the first page of each part in the access log, not every page", async () => {
    const { user } = await seededUser();
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    const before = (await store.accessLog({ limit: 1 })).items[0]?.seq ?? 0;
    const res = await exportFhir(user, "?since=2026-02-01");
    expect(res.status).toBe(200);
    await res.text();
    const events = (await store.accessLog({ limit: 100 })).items.filter((event) => event.seq > before).reverse();
    expect(events.every((event) => event.action === "export.read" && event.actor === user.user.id)).toBe(true);
    const resources = events.map((event) => parseAuditResource(event.resource));
    const [exportEvent, ...parts] = resources;
    expect(exportEvent?.kind).toBe("fhir_export");
    expect(exportEvent?.period).toEqual({ since: "2026-02-01T00:00:00.000Z", until: null });
    const exportId = exportEvent?.id ?? "";
    expect(exportId).toMatch(/^exp_[a-z2-7]{26}$/);
    // heart_rate spans three pages and is recorded once.
    expect(parts.map((part) => part.id)).toEqual(
      [
        "Observation/heart_rate",
        "Observation/steps",
        "Observation/blood_pressure",
        "Observation/diastolic",
        "Observation/sleep",
        "Observation/workouts",
        "Device",
      ].map((file) => `${exportId}:${file}`),
    );
    expect(parts[0]?.metrics).toEqual(["heart_rate"]);
    // The person's access log says it in words.
    expect(events.map((event) => describeEvent(event))).toEqual([
      `Exported your data as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported heart rate as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported steps as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported systolic blood pressure and diastolic blood pressure as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported diastolic blood pressure as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported sleep sessions as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported workouts as FHIR since 1 Feb 2026 (export ${exportId})`,
      `Exported the devices that recorded your data as FHIR since 1 Feb 2026 (export ${exportId})`,
    ]);
  });

  it("is limited like the account export: the sixth in a day is 429 with Retry-After", async () => {
    const user = await createSessionUser();
    for (let i = 0; i < 5; i += 1) {
      const res = await exportFhir(user, "?format=ndjson");
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const refused = await exportFhir(user);
    await expectProblem(refused, 429, "RATE_LIMITED");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(86_000);
  });

  it("does not count a refused request against the day's exports", async () => {
    const user = await createSessionUser();
    // More malformed requests than the day allows exports: each is a 400, none uses one up.
    for (const query of [
      "?since=yesterday",
      "?since=2026-03-02&until=2026-03-01",
      "?format=xml",
      "?format=ndjson&format=bundle",
      "?since=2026-03-01&since=2026-03-02",
      "?userId=usr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    ]) {
      await expectProblem(await exportFhir(user, query), 400, "VALIDATION_FAILED");
    }
    for (let i = 0; i < 5; i += 1) {
      const res = await exportFhir(user, "?format=ndjson");
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await expectProblem(await exportFhir(user), 429, "RATE_LIMITED");
    // Once the quota is used up, a malformed request is still told what is wrong with it.
    await expectProblem(await exportFhir(user, "?format=xml"), 400, "VALIDATION_FAILED");
  });

  it("reads the store only as the client reads, and stops when it goes away", async () => {
    const user = await createSessionUser();
    await seed(user.user.id, { observations: minutes("heart_rate", "bpm", 3 * PAGE, T0, { device: null }) });
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    const before = (await store.accessLog({ limit: 1 })).items[0]?.seq ?? 0;
    const res = await exportFhir(user);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^\{"resourceType":"Bundle"/);
    // A client that reads nothing more for a while: at most one page is read ahead.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await reader.cancel();
    // The plan and at most the first page of heart rate were read: never the parts after it.
    const events = (await store.accessLog({ limit: 10 })).items.filter((event) => event.seq > before);
    expect(events.length).toBeLessThanOrEqual(2);
    expect(events.every((event) => !event.resource.includes("Observation%2Fsleep"))).toBe(true);
  });

  it("aborts the transfer when a page fails part-way, so the file never looks complete", async () => {
    const user = await createSessionUser();
    await seed(user.user.id, { observations: minutes("heart_rate", "bpm", PAGE + 10, T0, { device: null }) });
    // A row no mapping can express (an unknown metric), read after two pages were sent.
    const stub = healthStoreFor(env.HEALTH_STORE, user.user.id).stub;
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec(
        `INSERT INTO observation_records (source_kind, source_app, source_record_id, version, device, ingested_at)
         VALUES ('upload', 'corrupt', 'x', 1, NULL, 0)`,
      );
      const [record] = sql.exec<{ id: number }>("SELECT id FROM observation_records WHERE source_app = 'corrupt'").toArray();
      sql.exec(
        `INSERT INTO observations (record_id, metric, start_ms, end_ms, value, unit, zone_offset_seconds, local_date, flagged)
         VALUES (?, 'zz_retired_metric', ?, ?, 1, 'x', NULL, '2026-03-01', 0)`,
        record?.id ?? 0,
        T0,
        T0,
      );
    });
    for (const format of ["bundle", "ndjson"]) {
      const res = await exportFhir(user, `?format=${format}`);
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let received = 0;
      const read = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value.byteLength;
        }
      })();
      await expect(read).rejects.toThrow();
      // The Patient and the heart-rate pages were sent before the failure.
      expect(received).toBeGreaterThan(PAGE * 200);
    }
  });
});

describe("fhir/bundle.json in the account archive", () => {
  it("holds the same resources as a collection Bundle", async () => {
    const { user, expectedIds } = await seededUser();
    const sent: ExportBuildMessage[] = [];
    const SYNC = { send: async (body: ExportBuildMessage) => void sent.push(body) } as unknown as Queue;
    const res = await call(app, "/v1/me/exports", { method: "POST", headers: user.headers }, { SYNC });
    expect(res.status).toBe(202);
    const receipt = await res.json<ExportReceipt>();
    const message = sent.find((m) => m.exportId === receipt.id);
    if (message === undefined) expect.fail("no export.build message");
    await exportBuildJob.run(message, { env, ctx: createExecutionContext(), messageId: "m-fhir", attempts: 1 });

    const object = await env.LAKE.get(exportKey(user.user.id, receipt.id));
    if (object === null) expect.fail("no archive in R2");
    const files = unzipSync(new Uint8Array(await object.arrayBuffer()));
    const bundle = JSON.parse(new TextDecoder().decode(files["fhir/bundle.json"])) as Bundle;
    expect(bundle.resourceType).toBe("Bundle");
    expect(bundle.type).toBe("collection");
    expect(bundle.entry.map((entry) => idOf(entry.resource)).slice(0, expectedIds.length)).toEqual(expectedIds);
    expect(bundle.entry).toHaveLength(expectedIds.length + 2);
    // The references use the API's own origin (JWT_ISSUER).
    expect(bundle.entry[0]?.fullUrl).toBe(`${new URL(env.JWT_ISSUER).origin}/v1/fhir/Patient/${patientId(user.user.id)}`);
    const manifest = JSON.parse(new TextDecoder().decode(files["manifest.json"])) as { files: { path: string; count: number }[] };
    expect(manifest.files.find((file) => file.path === "fhir/bundle.json")?.count).toBe(1);
    const readme = new TextDecoder().decode(files["README.txt"]);
    expect(readme).toContain("fhir/bundle.json");
  });
});
