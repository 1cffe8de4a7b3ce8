import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The supported range of dates and instants (src/observations/dates.ts): dates 1970-01-01 to
 * 9999-12-30, instants 1970-01-01T00:00:00Z to 9999-12-30T00:00:00Z, on every route that takes
 * one. Outside it, a 400 naming the query parameter; inside it, every instant answered is an
 * RFC 3339 timestamp with a four-digit year, in any zone.
 */
const app = createTestApp();
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

interface Problem {
  status: number;
  code: string;
  errors?: { path: string; message: string }[];
}

let user: SessionUser;
beforeAll(async () => {
  user = await createSessionUser();
});

const get = (path: string) => call(app, path, { headers: user.headers });

async function expectRefused(path: string, parameter: string, message: string | RegExp): Promise<void> {
  const res = await get(path);
  expect(res.status, path).toBe(400);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = await res.json<Problem>();
  expect(body.code).toBe("VALIDATION_FAILED");
  expect(body.errors?.map((error) => error.path)).toEqual([parameter]);
  expect(body.errors?.[0]?.message).toMatch(message);
}

describe("GET /v1/summary/daily: dates out of range", () => {
  it("refuses 9999-12-31, whose day ends in year 10000, naming `date`", async () => {
    await expectRefused(
      "/v1/summary/daily?date=9999-12-31",
      "date",
      "must be a calendar date (YYYY-MM-DD) from 1970-01-01 to 9999-12-30",
    );
    await expectRefused("/v1/summary/daily?date=9999-12-31&tz=Pacific/Kiritimati", "date", /9999-12-30/);
  });

  it("refuses 0050-06-01, naming `date` rather than an internal zone path", async () => {
    await expectRefused("/v1/summary/daily?date=0050-06-01", "date", /from 1970-01-01/);
    await expectRefused("/v1/summary/daily?date=0050-06-01&tz=Europe/Paris", "date", /from 1970-01-01/);
  });

  it("refuses 1883-11-18, naming `date` rather than an internal zone change", async () => {
    await expectRefused("/v1/summary/daily?date=1883-11-18&tz=America/New_York", "date", /from 1970-01-01/);
    await expectRefused("/v1/summary/daily?date=1883-11-18", "date", /from 1970-01-01/);
  });

  it("refuses a date that is not on the calendar", async () => {
    await expectRefused("/v1/summary/daily?date=2026-02-30", "date", /calendar date/);
  });
});

describe("GET /v1/summary/daily: the ends of the range", () => {
  it.each([
    ["UTC", "9999-12-30T00:00:00.000Z", "9999-12-31T00:00:00.000Z"],
    ["Pacific/Kiritimati", "9999-12-30T00:00:00.000+14:00", "9999-12-31T00:00:00.000+14:00"],
    ["-12:00", "9999-12-30T00:00:00.000-12:00", "9999-12-31T00:00:00.000-12:00"],
  ])("answers 9999-12-30 in %s with timestamps", async (tz, start, end) => {
    const res = await get(`/v1/summary/daily?date=9999-12-30&tz=${encodeURIComponent(tz)}`);
    expect(res.status).toBe(200);
    const body = await res.json<{ date: string; start: string; end: string }>();
    expect(body).toMatchObject({ date: "9999-12-30", start, end });
    expect(body.end).toMatch(TIMESTAMP);
    expect(Date.parse(body.end) - Date.parse(body.start)).toBe(DAY_MS);
  });

  it("answers 1970-01-01 east of UTC, a day that began before the Unix epoch", async () => {
    const res = await get("/v1/summary/daily?date=1970-01-01&tz=Asia/Tokyo");
    expect(res.status).toBe(200);
    const body = await res.json<{ start: string; end: string }>();
    expect(body).toMatchObject({ start: "1970-01-01T00:00:00.000+09:00", end: "1970-01-02T00:00:00.000+09:00" });
  });
});

describe("since and until", () => {
  it("refuses dates and instants outside the range, naming the parameter", async () => {
    await expectRefused(
      "/v1/observations?metrics=heart_rate&since=9999-12-31",
      "since",
      "must be a date from 1970-01-01 to 9999-12-30",
    );
    await expectRefused(
      "/v1/observations?metrics=heart_rate&since=2026-01-01T00:00:00Z&until=9999-12-31T23:59:59Z",
      "until",
      "must be between 1970-01-01T00:00:00Z and 9999-12-30T00:00:00Z",
    );
    await expectRefused("/v1/sleep?since=1883-11-18&tz=America/New_York", "since", /from 1970-01-01/);
    await expectRefused(
      "/v1/workouts?since=1969-12-31T23:59:59Z&until=1970-01-02T00:00:00Z",
      "since",
      /between 1970-01-01T00:00:00Z/,
    );
    // Local midnight of 1970-01-01 in Paris is an hour before the epoch.
    await expectRefused(
      "/v1/observations?metrics=steps&resolution=day&since=1970-01-01&until=1970-01-05&tz=Europe/Paris",
      "since",
      /between/,
    );
  });

  it("starts a default range no earlier than the epoch", async () => {
    const res = await get("/v1/sleep?until=1970-01-02T00:00:00Z");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], nextCursor: null });
  });

  it("buckets the last supported days with four-digit timestamps in the zone furthest ahead", async () => {
    const owner = await createSessionUser();
    const system: StoreAuditContext = {
      actor: "etl",
      role: "system",
      subject: owner.user.id,
      reason: null,
      requestId: null,
      ip: null,
    };
    const start = Date.parse("9999-12-29T12:00:00Z");
    await healthStoreFor(env.HEALTH_STORE, owner.user.id).ingestBatch(
      { observations: [observationInput("steps", "count", start, 120, { localDate: "9999-12-30" })] },
      system,
    );
    const res = await call(
      app,
      "/v1/observations?metrics=steps&resolution=day&since=9999-12-01T00:00:00Z&until=9999-12-30T00:00:00Z&tz=Pacific/Kiritimati",
      { headers: owner.headers },
    );
    expect(res.status).toBe(200);
    const body = await res.json<{ items: { start: string; end: string; sum?: number }[] }>();
    expect(body.items).toEqual([
      expect.objectContaining({ start: "9999-12-30T00:00:00.000+14:00", end: "9999-12-31T00:00:00.000+14:00", sum: 120 }),
    ]);
  });
});

describe("POST /v1/ai/query: since and until", () => {
  it("refuses instants outside the range, naming the body field", async () => {
    for (const [field, value] of [
      ["until", "9999-12-31T23:59:59Z"],
      ["since", "0050-06-01T00:00:00Z"],
      ["since", "1883-11-18T12:00:00-04:56"],
    ]) {
      const res = await call(app, "/v1/ai/query", {
        method: "POST",
        headers: { ...user.headers, "Content-Type": "application/json" },
        body: JSON.stringify({ question: "What was my average heart rate?", [field as string]: value }),
      });
      expect(res.status).toBe(400);
      const body = await res.json<Problem>();
      expect(body.errors).toEqual([{ path: field, message: "must be between 1970-01-01T00:00:00Z and 9999-12-30T00:00:00Z" }]);
    }
  });
});
