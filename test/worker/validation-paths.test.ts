import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";

/**
 * Every validation error names something the client sent. Walks the OpenAPI document the Worker
 * serves: for every operation, each declared query parameter gets hostile values (with the other
 * required parameters valid) and each declared JSON body field gets hostile values; every 4xx
 * problem's `errors[].path` must then start with a declared query, path or header parameter or a
 * declared body field ("(root)" is the body or query string as a whole), never a name internal to
 * Pulse (`query.zone.offsetMinutes`, `batch.observations.0.value`). No refusal may come from the
 * HealthStore's own argument checks: route validation must stop bad values first. And what a route
 * accepts is answered with real timestamps (four-digit years), never `+010000-01-00:00:00.000Z`.
 */
const BASE = "http://localhost";
const STORE_REFUSAL = "A value in the request is outside what Pulse can read or store.";

const HOSTILE: unknown[] = [
  "9999-12-31",
  "0050-06-01",
  "1883-11-18",
  "0000-01-01T00:00:00Z",
  "9999-12-31T23:59:59-23:59",
  "9999-12-31T20:00:00-05:00",
  "+275760-09-13T00:00:00Z",
  "1969-12-31T23:59:59Z",
  "2026-02-30",
  "",
  " ",
  "-1",
  "1e309",
  "NaN",
  "\u0000",
  "x".repeat(3_000),
];
const HOSTILE_JSON: unknown[] = [...HOSTILE, null, -1, 1e308, true, [], {}, { nested: "9999-12-31" }];
/** Valid values for required parameters, so each hostile value is judged on its own. */
const VALID_QUERY: Record<string, string> = { metrics: "heart_rate", date: "2026-01-15", tz: "UTC" };
const VALID_BODY: Record<string, unknown> = { question: "What was my average heart rate?", username: "walker" };

interface Parameter {
  name: string;
  in: "query" | "path" | "header" | "cookie";
  required?: boolean;
}
interface SchemaObject {
  $ref?: string;
  properties?: Record<string, unknown>;
  allOf?: SchemaObject[];
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, SchemaObject> };
}
interface Problem {
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

interface Case {
  method: string;
  path: string;
  url: string;
  body?: string;
  allowed: Set<string>;
}

const document: Document = await (await exports.default.fetch(`${BASE}/openapi.json`)).json();

function propertiesOf(schema: SchemaObject | undefined): string[] {
  if (schema === undefined) return [];
  if (schema.$ref !== undefined) return propertiesOf(document.components?.schemas?.[schema.$ref.split("/").pop() ?? ""]);
  const nested = [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(propertiesOf);
  return [...Object.keys(schema.properties ?? {}), ...nested];
}

/** A path template with each `{param}` filled with a well-formed-looking value. */
function concrete(template: string): string {
  return template.replace(/\{[^}]+\}/g, "x_0123456789abcdefghijklmnop");
}

function casesOf(template: string, method: string, operation: Operation): Case[] {
  const parameters = operation.parameters ?? [];
  const path = concrete(template);
  const declared = new Set(["(root)", ...parameters.map((parameter) => parameter.name)]);
  const cases: Case[] = [];
  const query = parameters.filter((parameter) => parameter.in === "query");
  const baseline = Object.fromEntries(
    query
      .filter((parameter) => parameter.required === true)
      .map((parameter) => [parameter.name, VALID_QUERY[parameter.name] ?? "x"]),
  );
  for (const parameter of query) {
    for (const value of HOSTILE) {
      const search = new URLSearchParams({ ...baseline, [parameter.name]: String(value) });
      cases.push({ method, path: template, url: `${path}?${search}`, allowed: declared });
      // Date parameters are read in a time zone: the hostile value in a zone with a history too.
      if (query.some((other) => other.name === "tz")) {
        search.set("tz", "America/New_York");
        cases.push({ method, path: template, url: `${path}?${search}`, allowed: declared });
      }
    }
  }
  const json = operation.requestBody?.content?.["application/json"]?.schema;
  if (json !== undefined) {
    const fields = propertiesOf(json);
    const allowed = new Set([...declared, ...fields, "unknownField"]);
    const base = Object.fromEntries(fields.filter((field) => field in VALID_BODY).map((field) => [field, VALID_BODY[field]]));
    for (const field of fields) {
      for (const value of HOSTILE_JSON)
        cases.push({ method, path: template, url: path, body: JSON.stringify({ ...base, [field]: value }), allowed });
    }
    for (const body of ["[]", "null", '"text"', "{}", JSON.stringify({ ...base, unknownField: 1 })])
      cases.push({ method, path: template, url: path, body, allowed });
  }
  return cases;
}

const cases = Object.entries(document.paths).flatMap(([template, operations]) =>
  Object.entries(operations).flatMap(([method, operation]) => casesOf(template, method.toUpperCase(), operation)),
);

const DATE_LIKE = /^[+-]?\d+-\d{2}-/;
const WRITABLE = /^(19[6-9]\d|[2-9]\d{3})-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2}))?$/;

/** Dates and timestamps in `value` that are not RFC 3339 with a four-digit year from 1969. */
function unwritableDates(value: unknown): string[] {
  if (typeof value === "string") return DATE_LIKE.test(value) && !WRITABLE.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(unwritableDates);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(unwritableDates);
  return [];
}

/** First segment of an error path: `response.id` → `response`, `metrics` → `metrics`. */
const head = (path: string) => path.split(".")[0] ?? path;

describe("validation errors name what the client sent", () => {
  it("covers every route with query parameters or a JSON body", () => {
    const routes = new Set(cases.map((entry) => `${entry.method} ${entry.path}`));
    for (const route of [
      "GET /v1/observations",
      "GET /v1/sleep",
      "GET /v1/workouts",
      "GET /v1/summary/daily",
      "POST /v1/ai/query",
      "POST /v1/auth/register/options",
    ])
      expect(routes).toContain(route);
    expect(routes.size).toBeGreaterThan(15);
  });

  it("answers every hostile value with a problem whose paths are the client's own names", async () => {
    let user: SessionUser | undefined;
    let used = 0;
    const offenders: string[] = [];
    let validationErrors = 0;
    for (const entry of cases) {
      // A fresh admin every few requests keeps per-user quotas (AI, auth) from answering first.
      if (user === undefined || used++ >= 5) {
        user = await createSessionUser({ role: "admin" });
        used = 0;
      }
      const headers: Record<string, string> = { ...user.headers, "CF-Connecting-IP": testIp() };
      if (entry.body !== undefined) headers["Content-Type"] = "application/json";
      const res = await exports.default.fetch(`${BASE}${entry.url}`, {
        method: entry.method,
        headers,
        ...(entry.body === undefined ? {} : { body: entry.body }),
      });
      const label = `${entry.method} ${entry.url.slice(0, 160)} ${entry.body?.slice(0, 120) ?? ""}`;
      if (res.status === 500) offenders.push(`${label} → 500`);
      if (res.ok && res.headers.get("Content-Type")?.startsWith("application/json")) {
        // A value the route let through must be answered with real timestamps, not year 10000 or 0050.
        // (Values the client sent and gets echoed, a username say, are its own.)
        const sent = `${decodeURIComponent(entry.url)} ${entry.body ?? ""}`;
        for (const bad of unwritableDates(await res.json()))
          if (!sent.includes(bad)) offenders.push(`${label} → answered ${bad}`);
        continue;
      }
      if (res.status !== 400) {
        await res.body?.cancel();
        continue;
      }
      const problem = await res.json<Problem>();
      if (problem.detail === STORE_REFUSAL) offenders.push(`${label} → refused by the HealthStore, not the route`);
      for (const error of problem.errors ?? []) {
        validationErrors++;
        if (!entry.allowed.has(head(error.path))) offenders.push(`${label} → path ${error.path}: ${error.message}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(validationErrors).toBeGreaterThan(cases.length / 2);
  }, 600_000);
});
