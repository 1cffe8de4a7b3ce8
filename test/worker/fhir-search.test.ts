import { env } from "cloudflare:workers";
import type { Bundle, Observation } from "@medplum/fhirtypes";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ObservationInput } from "../../durable-objects/health-store/schema";
import { describeEvent } from "../../src/access-log/describe";
import { acceptCurrentConsent } from "./helpers/consent";
import { expectOutcome, FHIR_BASE, fhirGet, fhirOk, ids, searchAll, store } from "./helpers/fhir";
import { insertGrant } from "./helpers/grants";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";

/**
 * `GET /v1/fhir/Observation` over plain samples (the kinds whose mapping every branch has): each
 * search parameter, FHIR date precision at the day's edges, paging to the end in both orders while
 * data arrives, cross-user isolation and a grantee's limits. Blood pressure, sleep, workouts and
 * hourly summaries are in fhir-kinds.test.ts.
 */
const app = createTestApp();
const at = (iso: string) => Date.parse(iso);
const REASON = "treatment; FHIR import";

const hr = (iso: string, value: number, extra: Partial<ObservationInput> = {}) =>
  observationInput("heart_rate", "bpm", at(iso), value, { sourceRecordId: `hr-${iso}`, ...extra });
const glucose = (iso: string, value: number) =>
  observationInput("blood_glucose", "mg/dL", at(iso), value, { sourceRecordId: `bg-${iso}` });

const SAMPLES: ObservationInput[] = [
  hr("2026-01-15T08:00:00.000Z", 60),
  // The last millisecond of the 15th and the first of the 16th: the edges of a day's precision.
  hr("2026-01-15T23:59:59.999Z", 70),
  hr("2026-01-16T00:00:00.000Z", 80),
  {
    ...observationInput("steps", "count", at("2026-01-15T09:00:00Z"), 500, { sourceRecordId: "steps-1" }),
    end: at("2026-01-15T09:15:00Z"),
  },
  glucose("2026-01-15T07:00:00.000Z", 110),
];

async function patientWith(samples: ObservationInput[] = SAMPLES): Promise<SessionUser> {
  const user = await createSessionUser();
  await store(user.user.id, { observations: samples });
  return user;
}

const patientRef = (user: SessionUser) => `usr-${user.user.id.slice(4)}`;

async function search(user: SessionUser, query: string, headers: Record<string, string> = {}): Promise<Bundle> {
  return fhirOk<Bundle>(await fhirGet(app, user, `/v1/fhir/Observation?${query}`, headers));
}

const values = (bundle: Bundle) => (bundle.entry ?? []).map((entry) => (entry.resource as Observation).valueQuantity?.value);

describe("Observation search: the searchset", () => {
  it("answers a searchset Bundle of matches with absolute fullUrls and a self link, oldest first", async () => {
    const user = await patientWith();
    const bundle = await search(user, "code=http://loinc.org|8867-4");
    expect(bundle).toMatchObject({ resourceType: "Bundle", type: "searchset" });
    expect(values(bundle)).toEqual([60, 70, 80]);
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as Observation;
      expect(resource.id).toMatch(/^obs-[1-9][0-9]*$/);
      expect(entry.fullUrl).toBe(`${FHIR_BASE}/Observation/${resource.id}`);
      expect(entry.search).toEqual({ mode: "match" });
      expect(resource.subject?.reference).toBe(`Patient/${patientRef(user)}`);
    }
    expect(bundle.link).toEqual([{ relation: "self", url: `${FHIR_BASE}/Observation?code=http://loinc.org|8867-4` }]);
  });

  it("records one observations.read naming the metrics and the period searched", async () => {
    const user = await patientWith();
    await search(user, "code=8867-4&date=ge2026-01-15&date=lt2026-01-16");
    const [event] = (await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 1 })).items;
    expect(event).toMatchObject({
      actor: user.user.id,
      action: "observations.read",
      resource: "observations;p=2026-01-15T00:00:00.000Z/2026-01-16T00:00:00.000Z;m=heart_rate",
      result: "success",
    });
    expect(event === undefined ? "" : describeEvent(event)).toBe("Read heart rate for 15 Jan 2026 – 16 Jan 2026");
  });

  it("reads codes as system|code, |code or code, comma meaning or, in LOINC or Pulse's own system", async () => {
    const user = await patientWith();
    expect(values(await search(user, "code=8867-4"))).toEqual([60, 70, 80]);
    expect(values(await search(user, "code=|8867-4"))).toEqual([60, 70, 80]);
    expect(values(await search(user, "code=https://pulse.health/fhir/CodeSystem/metric|heart_rate"))).toEqual([60, 70, 80]);
    expect(values(await search(user, "code=heart_rate"))).toEqual([60, 70, 80]);
    expect(values(await search(user, "code=http://loinc.org|2339-0,http://loinc.org|8867-4"))).toEqual([110, 60, 70, 80]);
    // A code no kind has, or a known code in another system, matches nothing (and is no error).
    expect(values(await search(user, "code=http://loinc.org|0000-0"))).toEqual([]);
    expect(values(await search(user, "code=http://snomed.info/sct|8867-4"))).toEqual([]);
  });

  it("selects by category: vital-signs, activity, laboratory; with code, both must hold", async () => {
    const user = await patientWith();
    expect(values(await search(user, "category=vital-signs"))).toEqual([60, 70, 80]);
    expect(values(await search(user, "category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"))).toEqual([
      110,
    ]);
    expect(values(await search(user, "category=activity"))).toEqual([500]);
    expect(values(await search(user, "category=laboratory,activity"))).toEqual([110, 500]);
    expect(values(await search(user, "category=laboratory&code=8867-4"))).toEqual([]);
    expect(values(await search(user, "category=other-system|laboratory"))).toEqual([]);
  });

  it("with no code, reads every kind merged by date", async () => {
    const user = await patientWith();
    expect(values(await search(user, ""))).toEqual([110, 60, 500, 70, 80]);
    expect(values(await search(user, "_sort=-date"))).toEqual([80, 70, 500, 60, 110]);
  });
});

describe("Observation search: date prefixes and precision", () => {
  const cases: [string, number[]][] = [
    // A day is [00:00, 24:00): its last millisecond is in, the next day's first is not.
    ["date=2026-01-15", [60, 70]],
    ["date=eq2026-01-15", [60, 70]],
    ["date=eq2026-01-16", [80]],
    ["date=lt2026-01-16", [60, 70]],
    ["date=le2026-01-15", [60, 70]],
    ["date=le2026-01-16", [60, 70, 80]],
    ["date=gt2026-01-15", [80]],
    ["date=ge2026-01-16", [80]],
    ["date=ge2026-01-15", [60, 70, 80]],
    ["date=sa2026-01-15", [80]],
    ["date=eb2026-01-16", [60, 70]],
    ["date=2026-01", [60, 70, 80]],
    ["date=2026", [60, 70, 80]],
    ["date=2025", []],
    ["date=2026-02", []],
    ["date=ge2026-01-15T23:59:59.999Z&date=lt2026-01-16T00:00:00Z", [70]],
    // Second precision with a zone: 01:00:00+01:00 is the second starting at 00:00:00Z.
    ["date=2026-01-16T01:00:00%2B01:00", [80]],
    ["date=2026-01-15T23:59:59Z", [70]],
    ["date=2026-01-15T23:59Z", [70]],
    ["date=ge2026-01-15T08:00Z&date=le2026-01-15T08:00Z", [60]],
    // Contradictory bounds match nothing without reading anything.
    ["date=ge2026-01-16&date=lt2026-01-15", []],
  ];
  for (const [query, expected] of cases) {
    it(`${decodeURIComponent(query)} → ${expected.join(", ") || "nothing"}`, async () => {
      const user = await patientWith();
      expect(values(await search(user, `code=8867-4&${query}`))).toEqual(expected);
    });
  }

  it("compares the range with the whole effective period of an interval sample", async () => {
    const user = await patientWith();
    // Steps 09:00-09:15: not inside the minute 09:00, but it ends after 09:10 began, and starts before 09:10 ends.
    expect(values(await search(user, "code=55423-8&date=eq2026-01-15T09:00Z"))).toEqual([]);
    expect(values(await search(user, "code=55423-8&date=eq2026-01-15"))).toEqual([500]);
    expect(values(await search(user, "code=55423-8&date=ge2026-01-15T09:10Z"))).toEqual([500]);
    expect(values(await search(user, "code=55423-8&date=gt2026-01-15T09:15Z"))).toEqual([]);
    expect(values(await search(user, "code=55423-8&date=le2026-01-15T09:10Z"))).toEqual([500]);
    expect(values(await search(user, "code=55423-8&date=eb2026-01-15T09:10Z"))).toEqual([]);
  });

  it("finds a record ending after a ge bound however long before it started, as records of any length arrive", async () => {
    const user = await patientWith();
    // A 20-hour record stored after the 15-minute one: the longest span of steps grows with it.
    const day = {
      ...observationInput("steps", "count", at("2026-01-14T06:00:00Z"), 9_000, { sourceRecordId: "steps-day" }),
      end: at("2026-01-15T02:00:00Z"),
    };
    await store(user.user.id, { observations: [day] });
    expect(values(await search(user, "code=55423-8&date=ge2026-01-15T01:00Z"))).toEqual([9_000, 500]);
    expect(values(await search(user, "code=55423-8&date=ge2026-01-15T02:00:01Z"))).toEqual([500]);
    expect(values(await search(user, "code=55423-8&date=ge2026-01-15T01:00Z&_sort=-date"))).toEqual([500, 9_000]);
  });

  for (const [value, message] of [
    ["ne2026-01-15", /prefix ne is not supported/],
    ["ap2026-01-15", /prefix ap is not supported/],
    ["2026-13-01", /no such date/],
    ["2026-02-30", /no such date/],
    ["2026-01-15T10:00", /needs a zone/],
    ["2026-01-15T25:00Z", /no such time/],
    // Offsets run from -12:00 to +14:00 (ISO 8601 in practice, FHIR's dateTime pattern allows ±14:00).
    ["2026-01-15T10:00%2B14:30", /no such zone offset/],
    ["2026-01-15T10:00-14:01", /no such zone offset/],
    ["2026-06-30T23:59:60Z", /no such time/],
    ["yesterday", /not a FHIR date/],
    ["", /not a FHIR date/],
  ] as const) {
    it(`refuses date=${value} with a 400 OperationOutcome naming date`, async () => {
      const user = await patientWith();
      const outcome = await expectOutcome(await fhirGet(app, user, `/v1/fhir/Observation?date=${value}`), 400, "invalid");
      const field = outcome.issue?.find((issue) => issue.expression?.[0] === "date");
      expect(field?.details?.text).toMatch(message);
    });
  }
});

describe("Observation search: refused parameters", () => {
  for (const [query, path] of [
    ["_summary=true", "_summary"],
    ["_elements=id", "_elements"],
    ["value-quantity=gt100", "value-quantity"],
    ["_count=0", "_count"],
    ["_count=1001", "_count"],
    ["_count=ten", "_count"],
    ["_count=-1", "_count"],
    ["_sort=value", "_sort"],
    ["resolution=day", "resolution"],
    ["code=", "code"],
    ["code=8867-4&code=2339-0", "code"],
    ["_count=5&_count=6", "_count"],
    [Array.from({ length: 9 }, () => "date=ge2026-01-01").join("&"), "date"],
    [`_cursor=${"A".repeat(301)}`, "_cursor"],
    ["patient=a&subject=b", "subject"],
  ] as const) {
    it(`${query.slice(0, 60)} → 400 naming ${path}`, async () => {
      const user = await patientWith();
      const outcome = await expectOutcome(await fhirGet(app, user, `/v1/fhir/Observation?${query}`), 400, "invalid");
      expect(outcome.issue?.some((issue) => issue.expression?.includes(path))).toBe(true);
    });
  }

  it("accepts _count=1000 and defaults to 50", async () => {
    const start = at("2026-03-01T00:00:00Z");
    const many = Array.from({ length: 60 }, (_, i) => hr(new Date(start + i * 60_000).toISOString(), 60 + (i % 30)));
    const user = await patientWith(many);
    const first = await search(user, "code=8867-4");
    expect(first.entry).toHaveLength(50);
    expect(first.link?.find((link) => link.relation === "next")?.url).toMatch(
      /^http:\/\/localhost\/v1\/fhir\/Observation\?code=8867-4&_cursor=/,
    );
    expect((await search(user, "code=8867-4&_count=1000")).entry).toHaveLength(60);
  });

  it("refuses a tampered cursor, and a cursor replayed with other filters or the other order", async () => {
    const user = await patientWith();
    const first = await search(user, "code=8867-4&_count=1");
    const next = new URL(first.link?.find((link) => link.relation === "next")?.url ?? "");
    const cursor = next.searchParams.get("_cursor") ?? "";
    for (const query of [
      `code=8867-4&_count=1&_cursor=${cursor}x`,
      `code=8867-4&_count=1&_cursor=AAAA`,
      `code=2339-0&_count=1&_cursor=${cursor}`,
      `code=8867-4&_sort=-date&_count=1&_cursor=${cursor}`,
      `code=8867-4&date=ge2026-01-01&_count=1&_cursor=${cursor}`,
    ]) {
      const outcome = await expectOutcome(await fhirGet(app, user, `/v1/fhir/Observation?${query}`), 400, "invalid");
      expect(outcome.issue?.some((issue) => issue.expression?.includes("cursor"))).toBe(true);
    }
  });
});

describe("Observation search: paging", () => {
  // Two metrics sharing instants: a page boundary falls inside runs of equal starts.
  const base = at("2026-02-01T00:00:00Z");
  const data = Array.from({ length: 23 }, (_, i) => {
    const iso = new Date(base + Math.floor(i / 2) * 60_000).toISOString();
    return i % 2 === 0 ? hr(iso, 50 + i) : glucose(iso, 100 + i);
  });

  it("follows next to the end: exactly every match once, in order, both ways", async () => {
    const user = await patientWith(data);
    const all = await search(user, "code=8867-4,2339-0&_count=1000");
    expect(all.entry).toHaveLength(23);
    for (const count of [1, 2, 5, 22, 23]) {
      const asc = await searchAll(app, user, `/v1/fhir/Observation?code=8867-4,2339-0&_count=${count}`);
      expect(ids(asc.resources)).toEqual(ids((all.entry ?? []).map((entry) => entry.resource as Observation)));
      expect(asc.pages.slice(0, -1).every((size) => size === count)).toBe(true);
      const desc = await searchAll(app, user, `/v1/fhir/Observation?code=8867-4,2339-0&_sort=-date&_count=${count}`);
      expect(ids(desc.resources)).toEqual([...ids(asc.resources)].reverse());
    }
    const starts = (await searchAll(app, user, "/v1/fhir/Observation?code=8867-4,2339-0&_count=4")).resources.map((resource) =>
      Date.parse(resource.effectiveDateTime ?? ""),
    );
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it("reads data stored between pages when it comes after the cursor, and never repeats", async () => {
    const user = await patientWith(data);
    const late = hr("2026-02-01T05:00:00.000Z", 99);
    const early = hr("2026-01-31T23:00:00.000Z", 98);
    const asc = await searchAll(app, user, "/v1/fhir/Observation?code=8867-4,2339-0&_count=5", {}, async (page) => {
      if (page === 1) await store(user.user.id, { observations: [late, early] });
    });
    const seen = values({ resourceType: "Bundle", type: "searchset", entry: asc.resources.map((resource) => ({ resource })) });
    // The early one sorts before the first page, already read: it is not on a later page.
    expect(seen).toHaveLength(24);
    expect(seen.at(-1)).toBe(99);
    expect(seen).not.toContain(98);
    expect(new Set(ids(asc.resources)).size).toBe(24);

    const fresh = await patientWith(data);
    const desc = await searchAll(app, fresh, "/v1/fhir/Observation?code=8867-4,2339-0&_sort=-date&_count=5", {}, async (page) => {
      if (page === 1) await store(fresh.user.id, { observations: [late, early] });
    });
    const newestFirst = desc.resources.map((resource) => resource.valueQuantity?.value);
    // Newest first: the early one comes after the cursor and is read; the late one is not.
    expect(newestFirst).toHaveLength(24);
    expect(newestFirst.at(-1)).toBe(98);
    expect(newestFirst).not.toContain(99);
  });
});

describe("Observation search: whose data", () => {
  it("reads the caller's own by default, and by their own Patient reference in any form", async () => {
    const user = await patientWith();
    const ref = patientRef(user);
    // The user id as sign-up prints it (usr_…) names the same Patient.
    for (const patient of [ref, `Patient/${ref}`, `${FHIR_BASE}/Patient/${ref}`, user.user.id, `Patient/${user.user.id}`]) {
      expect(values(await search(user, `code=8867-4&patient=${encodeURIComponent(patient)}`))).toEqual([60, 70, 80]);
    }
    expect(values(await search(user, `code=8867-4&subject=Patient/${ref}`))).toEqual([60, 70, 80]);
  });

  it("answers 404 for another patient's data, a malformed patient, or an unknown one", async () => {
    const owner = await patientWith();
    const stranger = await patientWith([hr("2026-01-15T08:00:00Z", 61)]);
    for (const patient of [patientRef(owner), "usr_abc", "Patient/123", `usr-${"a".repeat(26)}`]) {
      await expectOutcome(await fhirGet(app, stranger, `/v1/fhir/Observation?patient=${patient}`), 404, "not-found");
    }
    // The stranger's own search shows only their own sample.
    expect(values(await search(stranger, "code=8867-4"))).toEqual([61]);
  });
});

describe("Observation search: a grantee", () => {
  async function sharedWith(categories: string[], period: { dataSince?: number; dataUntil?: number } = {}) {
    const patient = await patientWith();
    await acceptCurrentConsent(patient.user.id);
    const clinician = await createSessionUser({ role: "clinician" });
    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, categories, ...period });
    return { patient, clinician, ref: patientRef(patient) };
  }

  it("reads the granted categories with a reason, recorded in the patient's access log", async () => {
    const { patient, clinician, ref } = await sharedWith(["vitals"]);
    const bundle = await search(clinician, `patient=${ref}&code=8867-4`, { "X-Access-Reason": REASON });
    expect(values(bundle)).toEqual([60, 70, 80]);
    const [event] = (await healthStoreFor(env.HEALTH_STORE, patient.user.id).accessLog({ limit: 1 })).items;
    expect(event).toMatchObject({ actor: clinician.user.id, role: "clinician", reason: REASON, action: "observations.read" });
    // Without a code: only what the grant covers (no glucose, no steps).
    expect(values(await search(clinician, `patient=${ref}`, { "X-Access-Reason": REASON }))).toEqual([60, 70, 80]);
    expect(values(await search(clinician, `patient=${ref}&category=vital-signs`, { "X-Access-Reason": REASON }))).toEqual([
      60, 70, 80,
    ]);
  });

  it("refuses a code or category outside the grant with a 403 naming it, recorded as denied", async () => {
    const { patient, clinician, ref } = await sharedWith(["vitals"]);
    const outcome = await expectOutcome(
      await fhirGet(app, clinician, `/v1/fhir/Observation?patient=${ref}&code=2339-0`, { "X-Access-Reason": REASON }),
      403,
      "forbidden",
    );
    expect(outcome.issue?.[0]?.details?.text).toMatch(/glucose/);
    const [event] = (await healthStoreFor(env.HEALTH_STORE, patient.user.id).accessLog({ limit: 1 })).items;
    expect(event).toMatchObject({ actor: clinician.user.id, result: "denied", resource: "observations;m=blood_glucose" });
    const byCategory = await expectOutcome(
      await fhirGet(app, clinician, `/v1/fhir/Observation?patient=${ref}&category=laboratory`, { "X-Access-Reason": REASON }),
      403,
      "forbidden",
    );
    expect(byCategory.issue?.[0]?.details?.text).toMatch(/laboratory/);
  });

  it("needs the reason (400) and the patient named (400)", async () => {
    const { clinician, ref } = await sharedWith(["vitals"]);
    const noReason = await expectOutcome(await fhirGet(app, clinician, `/v1/fhir/Observation?patient=${ref}`), 400, "invalid");
    expect(noReason.issue?.some((issue) => issue.expression?.includes("X-Access-Reason"))).toBe(true);
    const noPatient = await expectOutcome(
      await fhirGet(app, clinician, "/v1/fhir/Observation", { "X-Access-Reason": REASON }),
      400,
      "invalid",
    );
    expect(noPatient.issue?.some((issue) => issue.expression?.includes("patient"))).toBe(true);
  });

  it("sees only the grant's period of data", async () => {
    const { clinician, ref } = await sharedWith(["vitals"], {
      dataSince: at("2026-01-15T12:00:00Z"),
      dataUntil: at("2026-01-16T00:00:00Z"),
    });
    expect(values(await search(clinician, `patient=${ref}&code=8867-4`, { "X-Access-Reason": REASON }))).toEqual([70]);
    expect(values(await search(clinician, `patient=${ref}&code=8867-4&date=2026-01-16`, { "X-Access-Reason": REASON }))).toEqual(
      [],
    );
  });

  it("answers 404 without a grant, after revocation, or to a patient-role caller", async () => {
    const { patient, ref } = await sharedWith(["vitals"]);
    const other = await createSessionUser({ role: "clinician" });
    await expectOutcome(
      await fhirGet(app, other, `/v1/fhir/Observation?patient=${ref}`, { "X-Access-Reason": REASON }),
      404,
      "not-found",
    );
    const revokedFor = await createSessionUser({ role: "researcher" });
    await insertGrant({
      patientId: patient.user.id,
      granteeId: revokedFor.user.id,
      role: "researcher",
      categories: ["vitals"],
      revokedAt: Date.now() - 1_000,
    });
    await expectOutcome(
      await fhirGet(app, revokedFor, `/v1/fhir/Observation?patient=${ref}`, { "X-Access-Reason": "research" }),
      404,
      "not-found",
    );
    const patientRole = await createSessionUser();
    await expectOutcome(
      await fhirGet(app, patientRole, `/v1/fhir/Observation?patient=${ref}`, { "X-Access-Reason": REASON }),
      404,
      "not-found",
    );
  });
});
