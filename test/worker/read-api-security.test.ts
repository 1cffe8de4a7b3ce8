import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput } from "../../durable-objects/health-store/schema";
import { registerObservationRoutes } from "../../src/observations/routes";
import { dpopHeaders, generateDeviceKey } from "./helpers/dpop";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * Who can read what: only the signed-in owner, through their own HealthStore. Cross-user isolation
 * is structural (the store is `idFromName(caller)`); these tests check it from the outside, and that
 * every read leaves its audit event.
 */
const app = createTestApp();
registerObservationRoutes(app);

const START = Date.parse("2026-01-15T08:00:00Z");
const RANGE = "since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z";
const ROUTES = [
  `/v1/observations?metrics=heart_rate&${RANGE}`,
  `/v1/observations?metrics=heart_rate&resolution=hour&${RANGE}`,
  "/v1/observations/latest?metrics=heart_rate",
  `/v1/sleep?${RANGE}`,
  `/v1/workouts?${RANGE}`,
  "/v1/summary/daily?date=2026-01-15",
];

function heartRate(value: number): ObservationInput {
  return {
    metric: "heart_rate",
    start: START,
    end: START,
    value,
    unit: "bpm",
    sourceKind: "upload",
    sourceApp: "com.example.health",
    sourceRecordId: "hr-1",
    localDate: "2026-01-15",
  };
}

async function ownerWithHeartRate(): Promise<SessionUser> {
  const owner = await createSessionUser();
  const audit = { actor: "etl", role: "system" as const, subject: owner.user.id, reason: null, requestId: null, ip: null };
  await healthStoreFor(env.HEALTH_STORE, owner.user.id).ingestBatch(
    {
      observations: [heartRate(64)],
      sleepSessions: [
        {
          sourceKind: "upload",
          sourceApp: "a",
          sourceRecordId: "s",
          start: START - 8 * 3_600_000,
          end: START,
          localDate: "2026-01-15",
        },
      ],
      workouts: [
        {
          sourceKind: "upload",
          sourceApp: "a",
          sourceRecordId: "w",
          start: START,
          end: START + 600_000,
          localDate: "2026-01-15",
          exerciseType: "walking",
        },
      ],
    },
    audit,
  );
  return owner;
}

describe("read API authorization", () => {
  it("refuses device credentials, which carry only uploads:write (403)", async () => {
    const owner = await createSessionUser();
    const key = await generateDeviceKey();
    const created = await call(app, "/v1/me/devices", {
      method: "POST",
      headers: { ...owner.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Phone", publicJwk: key.publicJwk }),
    });
    const { credential } = await created.json<{ credential: string }>();
    for (const path of ROUTES) {
      const headers = await dpopHeaders(key, credential, "GET", `http://localhost${path}`);
      await expectProblem(await call(app, path, { headers: { ...headers, "CF-Connecting-IP": "10.9.9.9" } }), 403, "FORBIDDEN");
    }
  });

  it("shows another user nothing of the owner's data, and the owner all of it", async () => {
    const owner = await ownerWithHeartRate();
    const intruder = await createSessionUser();

    for (const path of ROUTES.slice(0, 5)) {
      const seen = await call(app, path, { headers: intruder.headers });
      expect(seen.status).toBe(200);
      expect((await seen.json<{ items: unknown[] }>()).items).toEqual([]);
      const own = await call(app, path, { headers: owner.headers });
      expect((await own.json<{ items: unknown[] }>()).items).toHaveLength(1);
    }
    const summary = await call(app, ROUTES[5] ?? "", { headers: intruder.headers });
    expect(await summary.json()).toMatchObject({ steps: null, heartRate: null, sleep: { sessions: 0 }, workouts: { count: 0 } });
  });

  it("never takes a user id from the request: naming the owner is refused, not honoured", async () => {
    const owner = await ownerWithHeartRate();
    const intruder = await createSessionUser();
    for (const name of ["userId", "user", "subject", "patient"]) {
      const res = await call(app, `/v1/observations?metrics=heart_rate&${RANGE}&${name}=${owner.user.id}`, {
        headers: intruder.headers,
      });
      await expectProblem(res, 400, "VALIDATION_FAILED");
    }
    const own = await call(app, `/v1/observations?metrics=heart_rate&${RANGE}`, { headers: owner.headers });
    expect((await own.json<{ items: { value: number }[] }>()).items.map((obs) => obs.value)).toEqual([64]);
  });
});

describe("read API audit", () => {
  it("records every read in the owner's store with who, from where and which request", async () => {
    const owner = await ownerWithHeartRate();
    const requestIds: string[] = [];
    for (const path of ROUTES) {
      const res = await call(app, path, { headers: owner.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      requestIds.push(res.headers.get("X-Request-Id") ?? "");
    }

    const log = await healthStoreFor(env.HEALTH_STORE, owner.user.id).accessLog({ limit: 10 });
    const reads = log.items.filter((event) => event.actor === owner.user.id).reverse();
    expect(reads.map((event) => [event.action, event.resource, event.requestId])).toEqual([
      ["observations.read", "observations;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=heart_rate", requestIds[0]],
      ["observations.read", "observations;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=heart_rate", requestIds[1]],
      ["observations.read", "latest;m=heart_rate", requestIds[2]],
      ["sleep.read", "sleep;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=sleep", requestIds[3]],
      ["workouts.read", "workouts;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=workout", requestIds[4]],
      [
        "summary.read",
        "summary;d=2026-01-15;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=steps,active_energy,total_energy,heart_rate,resting_heart_rate,hrv_rmssd,hrv_sdnn,blood_glucose,sleep,workout",
        requestIds[5],
      ],
    ]);
    expect(
      reads.every((event) => event.role === "patient" && event.subject === owner.user.id && event.result === "success"),
    ).toBe(true);
    expect(new Set(reads.map((event) => event.ip))).toEqual(new Set([owner.headers["CF-Connecting-IP"]]));
    expect(await healthStoreFor(env.HEALTH_STORE, owner.user.id).verifyAudit()).toMatchObject({ ok: true, count: 7 });
  });

  it("documents the routes in the OpenAPI document", async () => {
    const res = await call(app, "/openapi.json");
    const doc = await res.json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/observations", "/v1/observations/latest", "/v1/sleep", "/v1/workouts", "/v1/summary/daily"]),
    );
  });
});
