import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput, StoreAuditContext } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput } from "../../durable-objects/health-store/session-schema";
import type { EnclaveBridgeFixture } from "../support/enclave-bridge-fixture";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * "Summarize my week" through POST /v1/ai/query, end to end: real ingested data, the Worker reading
 * the person's narrative for the local day or week in `tz`, sealing it to the real bridge fixture
 * (enclave application, simulated NSM, built-in analyst), and the answer compared with what
 * GET /v1/narratives says for the same period and zone.
 */
const app = createTestApp();
const bridge: EnclaveBridgeFixture = inject("enclaveBridge");
const DAY = 86_400_000;
const HOUR = 3_600_000;

const bindings = {
  ENCLAVE_BRIDGE_URL: bridge.url,
  ENCLAVE_BRIDGE_TOKEN: bridge.token,
  ENCLAVE_PCR0: bridge.pcrs[0],
  ENCLAVE_PCR1: bridge.pcrs[1],
  ENCLAVE_PCR2: bridge.pcrs[2],
  ENCLAVE_ROOT_CERTIFICATE: bridge.rootCertificate,
  ENCLAVE_ROOT_SHA256: bridge.rootSha256,
} as Partial<Env>;

interface Answer {
  answer: string;
  usedMetrics: string[];
  figures: { label: string; value: number; unit: string }[];
  period: { since: string; until: string };
}

interface NarrativeView {
  date: string;
  endDate: string;
  timeZone: string;
  sections: {
    domain: string;
    title: string;
    sentences: string[];
    figures: { code: string; label: string; value: number | null; unit: string }[];
  }[];
  noData: string[];
}

async function ask(user: SessionUser, body: Record<string, string>): Promise<Answer> {
  const res = await call(
    app,
    "/v1/ai/query",
    { method: "POST", headers: { ...user.headers, "Content-Type": "application/json" }, body: JSON.stringify(body) },
    bindings,
  );
  expect(res.status).toBe(200);
  return res.json<Answer>();
}

async function narrative(user: SessionUser, query: string): Promise<NarrativeView> {
  const res = await call(app, `/v1/narratives?${query}`, { headers: user.headers });
  expect(res.status).toBe(200);
  return res.json<NarrativeView>();
}

const system = (userId: string): StoreAuditContext => ({
  actor: "etl",
  role: "system",
  subject: userId,
  reason: null,
  requestId: null,
  ip: null,
});

/** The local date (YYYY-MM-DD) of an instant in an IANA zone, written independently of Pulse's code. */
function localDate(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
}

/** Glucose every 30 min, heart rate hourly, steps hourly by day and a night's sleep, over the last 16 days. */
async function userWithTwoWeeks(): Promise<SessionUser> {
  const user = await createSessionUser();
  const now = Date.now();
  const first = Math.floor((now - 16 * DAY) / HOUR) * HOUR;
  const observations: ObservationInput[] = [];
  for (let t = first, i = 0; t < now; t += HOUR / 2, i++) {
    observations.push(observationInput("blood_glucose", "mg/dL", t, 90 + ((i * 37) % 110)));
    if (i % 2 === 0) {
      observations.push(observationInput("heart_rate", "bpm", t, 60 + ((i * 13) % 45)));
      const hour = new Date(t).getUTCHours();
      if (hour >= 8 && hour <= 20) observations.push(observationInput("steps", "count", t, 300 + ((i * 7) % 500)));
    }
  }
  const sleepSessions: SleepSessionInput[] = [];
  for (let day = 1; day <= 15; day++) {
    const start = Math.floor((now - day * DAY) / DAY) * DAY - 2 * HOUR;
    sleepSessions.push({
      sourceKind: "upload",
      sourceApp: "com.example.health",
      sourceRecordId: `night-${day}`,
      version: 1,
      start,
      end: start + 8 * HOUR,
      localDate: new Date(start + 8 * HOUR).toISOString().slice(0, 10),
      stages: [
        { stage: "light", start, end: start + 4 * HOUR },
        { stage: "deep", start: start + 4 * HOUR, end: start + 5 * HOUR + day * 60_000 },
        { stage: "rem", start: start + 5 * HOUR + day * 60_000, end: start + 8 * HOUR },
      ],
    });
  }
  const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
  await store.ingestBatch({ observations, sleepSessions, workouts: [] }, system(user.user.id));
  return user;
}

async function events(userId: string) {
  const page = await healthStoreFor(env.HEALTH_STORE, userId).accessLog({ limit: 200 });
  return page.items;
}

/** The answer must say the narrative's sentences and give exactly its stated figures. */
function expectSameFigures(answer: Answer, view: NarrativeView, opening: RegExp) {
  expect(answer.answer).toMatch(opening);
  expect(view.sections.length).toBeGreaterThan(0);
  for (const section of view.sections) for (const sentence of section.sentences) expect(answer.answer).toContain(sentence);
  const stated = view.sections.flatMap((section) =>
    section.figures
      .filter((figure) => figure.value !== null)
      .map((figure) => ({ label: `${section.title}: ${figure.label}`, value: figure.value, unit: figure.unit })),
  );
  expect(answer.figures).toEqual(stated);
}

describe("POST /v1/ai/query: summaries", () => {
  it("summarizes last week with the narrative's sentences and figures for that week in the zone, audited as the analyst's read", async () => {
    const user = await userWithTwoWeeks();
    const tz = "America/New_York";
    const answer = await ask(user, { question: "Summarize last week", tz });
    const before = await events(user.user.id);
    // A date of last week in New York: the narrative route gives the ISO week containing it.
    const view = await narrative(user, `period=week&tz=${encodeURIComponent(tz)}&date=${localDate(Date.now() - 7 * DAY, tz)}`);

    expectSameFigures(answer, view, /^Your week of \d{1,2} [A-Z][a-z]{2} – \d{1,2} [A-Z][a-z]{2}: Glucose: /);
    expect(answer.usedMetrics).toEqual(expect.arrayContaining(["blood_glucose", "heart_rate", "sleep", "steps"]));
    expect(answer.usedMetrics).not.toContain("weight");
    expect(view.noData).toEqual(expect.arrayContaining(["blood_pressure", "body"]));
    // The week's local days: from Monday 00:00 in New York for 7 days.
    expect(localDate(Date.parse(answer.period.since), tz)).toBe(view.date);
    expect(Date.parse(answer.period.until) - Date.parse(answer.period.since)).toBeGreaterThanOrEqual(7 * DAY - HOUR);

    // One event, the analyst's, naming the week and the categories a narrative is made of; no narrative read of its own.
    const ai = before.filter((event) => event.action === "ai.query");
    expect(ai).toHaveLength(1);
    expect(ai[0]?.resource).toMatch(new RegExp(`^ai;d=${view.date};p=[^;]+;c=activity,body,glucose,sleep,vitals$`));
    expect(before.filter((event) => event.action === "narratives.read")).toHaveLength(0);
    expect(JSON.stringify(before)).not.toMatch(/Summarize|Glucose:/);
  });

  it("summarizes a day in the asker's zone: 'yesterday' is a different date east and west of the date line", async () => {
    const user = await userWithTwoWeeks();
    for (const tz of ["Pacific/Kiritimati", "Pacific/Honolulu"]) {
      const answer = await ask(user, { question: "summarise yesterday", tz });
      const yesterday = localDate(Date.now() - DAY, tz);
      const view = await narrative(user, `period=day&tz=${encodeURIComponent(tz)}&date=${yesterday}`);
      expect(view.date).toBe(yesterday);
      expectSameFigures(answer, view, /^Your day, [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+: /);
      expect(answer.answer).toContain(`${Number(yesterday.slice(8))} `);
    }
  });

  it("answers only the sections asked about, and says so when a day has no data instead of giving an average", async () => {
    const user = await userWithTwoWeeks();
    const sleepOnly = await ask(user, { question: "summarize my sleep last week", tz: "UTC" });
    expect(sleepOnly.answer).toMatch(/^Your week of [^:]+: Sleep: /);
    expect(sleepOnly.answer).not.toContain("Glucose");
    expect(sleepOnly.usedMetrics).toEqual(["sleep"]);

    const empty = await createSessionUser();
    const none = await ask(empty, { question: "How was my day?", tz: "Europe/Paris" });
    expect(none.answer).toMatch(/^I have no data to summarize for your day today, [A-Z][a-z]+day \d{1,2} [A-Z][a-z]+\.$/);
    expect(none.figures).toEqual([]);
    expect(none.usedMetrics).toEqual([]);
    const monthly = await ask(user, { question: "summarize my month" });
    expect(monthly.answer).toMatch(/^I can summarize a day or a week/);
    expect(monthly.figures).toEqual([]);
  });
});
