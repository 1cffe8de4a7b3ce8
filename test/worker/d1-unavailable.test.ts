import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import type { IngestMessage } from "../../src/uploads/create-upload";
import { ingestUpload } from "../../src/uploads/ingest-upload";
import { type D1Rule, d1Error, faultyD1, faultyR2Writes, isWrite, r2Error, recordingQueue } from "./helpers/faults";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";
import { call } from "./helpers/test-app";
import { heartRateFile } from "./helpers/upload-files";

const app = createApp();
const db = getDb(env.DB);

/** The transient D1_ERRORs of Cloudflare's list (developers.cloudflare.com/d1/observability/debug-d1). */
const UNAVAILABLE = [
  "Network connection lost.",
  "D1 DB is overloaded. Requests queued for too long.",
  "D1 DB is overloaded. Too many requests queued.",
  "D1 DB storage operation exceeded timeout which caused object to be reset.",
  "Internal error in D1 DB storage caused object to be reset.",
  "D1 DB reset because its code was updated.",
  "Cannot resolve D1 DB due to transient issue on remote node.",
];

const down =
  (message = "Network connection lost."): D1Rule =>
  () =>
    d1Error(message);

interface Problem {
  code: string;
  status: number;
  detail: string;
  requestId: string;
}

async function expectUnavailable(res: Response): Promise<Problem> {
  expect(res.status).toBe(503);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(res.headers.get("Retry-After")).toBe("10");
  const text = await res.text();
  // Nothing of the dependency's own error text reaches the client.
  expect(text).not.toMatch(/D1_ERROR|D1 DB|Network connection|SQLITE/);
  const problem = JSON.parse(text) as Problem;
  expect(problem).toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
  return problem;
}

function get(user: SessionUser, path: string, bindings: Partial<Env> = {}): Promise<Response> {
  return call(app, path, { headers: user.headers }, bindings);
}

function postUpload(user: SessionUser, bytes: Uint8Array, bindings: Partial<Env>): Promise<Response> {
  return call(
    app,
    "/v1/uploads",
    { method: "POST", headers: { ...user.headers, "Content-Type": "application/avro" }, body: bytes },
    bindings,
  );
}

/** Everything an upload writes, for the user: none of it may remain after a refused upload. */
async function uploadTraces(userId: string) {
  const rows = await db.select({ id: uploads.id }).from(uploads).where(eq(uploads.userId, userId));
  const objects = (await env.LAKE.list({ prefix: `raw/${userId}/` })).objects.map((object) => object.key);
  const log = await healthStoreFor(env.HEALTH_STORE, userId).accessLog({ limit: 50 });
  const audits = log.items.filter((event) => event.action === "upload.create");
  return { rows, objects, audits };
}

describe("GET /health while D1 is unavailable", () => {
  it("answers 503 with checks.d1 failed and R2 still ok", async () => {
    const res = await call(app, "/health", {}, { DB: faultyD1(env.DB, down()) });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("30");
    const body = await res.json<{ code: string; checks: Record<string, { status: string; error?: string }> }>();
    expect(body.code).toBe("SERVICE_UNAVAILABLE");
    expect(body.checks.d1).toMatchObject({ status: "fail", error: "unavailable" });
    expect(body.checks.r2).toMatchObject({ status: "ok" });
  });
});

describe("reads while D1 is unavailable", () => {
  // A fresh session is not in this isolate's session cache, so authenticating it needs D1.
  it.each([
    "/v1/observations?metrics=heart_rate&since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z",
    "/v1/observations/latest?metrics=heart_rate",
    "/v1/summary/daily?date=2026-01-15",
  ])("GET %s answers 503 problem+json with Retry-After", async (path) => {
    const user = await createSessionUser();
    await expectUnavailable(await get(user, path, { DB: faultyD1(env.DB, down()) }));
    // And the same request succeeds once D1 is back.
    expect((await get(user, path)).status).toBe(200);
  });

  it.each(UNAVAILABLE)("treats D1's %j as unavailable", async (message) => {
    const user = await createSessionUser();
    await expectUnavailable(
      await get(user, "/v1/observations/latest?metrics=heart_rate", { DB: faultyD1(env.DB, down(message)) }),
    );
  });

  it.each([
    "UNIQUE constraint failed: sessions.id: SQLITE_CONSTRAINT",
    "no such column: sessions.nope: SQLITE_ERROR",
    "D1 DB's isolate exceeded its memory limit and was reset.",
  ])("keeps %j a 500: retrying our own query's failure changes nothing", async (message) => {
    const user = await createSessionUser();
    const res = await get(user, "/v1/observations/latest?metrics=heart_rate", { DB: faultyD1(env.DB, down(message)) });
    expect(res.status).toBe(500);
    expect(res.headers.get("Retry-After")).toBeNull();
    expect(await res.json()).toMatchObject({ code: "INTERNAL", detail: "An unexpected error occurred." });
  });
});

describe("sign-in and refresh while D1 is unavailable", () => {
  const post = (path: string, body: unknown, bindings: Partial<Env>) =>
    call(
      app,
      path,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": testIp() },
        body: JSON.stringify(body),
      },
      bindings,
    );

  it("POST /v1/auth/login/options answers 503", async () => {
    await expectUnavailable(await post("/v1/auth/login/options", {}, { DB: faultyD1(env.DB, down()) }));
  });

  it("POST /v1/auth/refresh answers 503, and the refresh token still works afterwards", async () => {
    const user = await createSessionUser();
    await expectUnavailable(
      await post("/v1/auth/refresh", { refreshToken: user.refreshToken }, { DB: faultyD1(env.DB, down()) }),
    );
    const retried = await post("/v1/auth/refresh", { refreshToken: user.refreshToken }, {});
    expect(retried.status).toBe(200);
  });
});

describe("POST /v1/uploads while D1 is unavailable", () => {
  it("answers 503 before reading the file when the session is not cached", async () => {
    const user = await createSessionUser();
    const ingest = recordingQueue<IngestMessage>(env.INGEST);
    const res = await postUpload(user, await heartRateFile(3), { DB: faultyD1(env.DB, down()), INGEST: ingest.queue });
    await expectUnavailable(res);
    expect(ingest.sent).toEqual([]);
    expect(await uploadTraces(user.user.id)).toEqual({ rows: [], objects: [], audits: [] });
  });

  it("answers 503 and leaves nothing behind when D1 fails after the file reached R2", async () => {
    const user = await createSessionUser();
    // One request with D1 up puts the session in this isolate's cache: the upload then gets as
    // far as storing the file in R2 before it needs D1.
    expect((await get(user, "/v1/uploads")).status).toBe(200);
    const ingest = recordingQueue<IngestMessage>(env.INGEST);
    const refused: string[] = [];
    const rule: D1Rule = (sql) => {
      refused.push(sql);
      return d1Error("D1 DB is overloaded. Too many requests queued.");
    };
    await expectUnavailable(await postUpload(user, await heartRateFile(3), { DB: faultyD1(env.DB, rule), INGEST: ingest.queue }));
    expect(refused.some(isWrite)).toBe(true);
    expect(ingest.sent).toEqual([]);
    expect(await uploadTraces(user.user.id)).toEqual({ rows: [], objects: [], audits: [] });

    // The client's retry, with D1 back, is an ordinary first upload.
    const retried = await postUpload(user, await heartRateFile(3), { INGEST: ingest.queue });
    expect(retried.status).toBe(202);
    expect(ingest.sent).toHaveLength(1);
  });

  it("answers 503 when D1 fails right after the row was inserted, and nothing is ever ingested from it", async () => {
    const user = await createSessionUser();
    expect((await get(user, "/v1/uploads")).status).toBe(200);
    const ingest = recordingQueue<IngestMessage>(env.INGEST);
    let inserted = false;
    const rule: D1Rule = (sql) => {
      if (inserted) return d1Error("Network connection lost.");
      if (/^insert into "uploads"/i.test(sql)) inserted = true;
      return undefined;
    };
    await expectUnavailable(await postUpload(user, await heartRateFile(3), { DB: faultyD1(env.DB, rule), INGEST: ingest.queue }));
    expect(inserted).toBe(true);
    const traces = await uploadTraces(user.user.id);
    expect(traces.objects).toEqual([]);
    expect(traces.audits).toEqual([]);
    expect(ingest.sent).toEqual([]);

    // D1 could not delete the row either: the sweeper's resume finds its file gone and fails it,
    // so no observation is stored from a request that was answered with an error.
    const [left] = traces.rows;
    expect(left).toBeDefined();
    const outcome = await ingestUpload(
      { db, env },
      { type: "upload.ingest", uploadId: left?.id ?? "", userId: user.user.id, requestId: null },
    );
    expect(outcome).toBe("failed");
    const [row] = await db.select().from(uploads).where(eq(uploads.userId, user.user.id));
    expect(row).toMatchObject({ status: "failed", errorCode: "FILE_MISSING", accepted: 0 });
  });

  it("answers 503 and leaves nothing behind when only D1's writes fail", async () => {
    const user = await createSessionUser();
    const ingest = recordingQueue<IngestMessage>(env.INGEST);
    const rule: D1Rule = (sql) => (isWrite(sql) ? d1Error("Network connection lost.") : undefined);
    await expectUnavailable(await postUpload(user, await heartRateFile(4), { DB: faultyD1(env.DB, rule), INGEST: ingest.queue }));
    expect(ingest.sent).toEqual([]);
    expect(await uploadTraces(user.user.id)).toEqual({ rows: [], objects: [], audits: [] });
  });
});

describe("POST /v1/uploads while R2 is unavailable", () => {
  it("answers 503 with Retry-After and records nothing", async () => {
    const user = await createSessionUser();
    const ingest = recordingQueue<IngestMessage>(env.INGEST);
    const lake = faultyR2Writes(env.LAKE, () => r2Error("put", 10043, "Service is temporarily unavailable."));
    await expectUnavailable(await postUpload(user, await heartRateFile(3), { LAKE: lake, INGEST: ingest.queue }));
    expect(ingest.sent).toEqual([]);
    expect(await uploadTraces(user.user.id)).toEqual({ rows: [], objects: [], audits: [] });
  });

  it("keeps an R2 refusal that is not an outage a 500", async () => {
    const user = await createSessionUser();
    const lake = faultyR2Writes(env.LAKE, () =>
      r2Error("put", 10012, "Your metadata headers exceed the maximum allowed metadata size."),
    );
    const res = await postUpload(user, await heartRateFile(3), { LAKE: lake });
    expect(res.status).toBe(500);
    expect(await uploadTraces(user.user.id)).toEqual({ rows: [], objects: [], audits: [] });
  });
});
