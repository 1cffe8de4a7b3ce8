import { execFile } from "node:child_process";
import { mkdtempSync, openAsBlob, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Bundle, CapabilityStatement, Device, Observation, Patient, Resource } from "@medplum/fhirtypes";
import { Client } from "fhir-kit-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRecords } from "../../scripts/demo-data.mjs";
import { createPulseClient, type PulseClient, uploadBody } from "../../sdk/client/index.ts";
// Loads the R4 definitions and the vital-signs profiles, corrected as the HL7 validator corrects them.
import { errors } from "../node/fhir-validator";
import { type DevServer, startDevServer } from "./dev-server";

/**
 * A clinician's FHIR client and a new user against `npm run dev` over real HTTP: the user signs up
 * with scripts/dev-signup.mjs and uploads a week of demo data with scripts/upload.mjs (which waits
 * for the real ingest queue); then fhir-kit-client reads the CapabilityStatement, searches heart
 * rate by LOINC code and date and follows `next` to the end, searches blood-pressure panels, reads
 * one Observation, the Patient and the Devices. Every resource received, and every entry of the
 * bulk export, is validated with @medplum/core against the R4 definitions and the profile it
 * claims. The week's narrative is read too, and its figures checked against the same demo records.
 *
 * Then the generated client (sdk/client) against `npm run dev`, as a developer meets Pulse on a fresh
 * machine (DESIGN §10): sign up with scripts/dev-signup.mjs, upload the Health Connect samples
 * through the client, and read each upload back through it until the ingest job has completed.
 * No browser needed; it lives with the browser tests because they share the dev server harness
 * (and with the FHIR client, to share one dev server start).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = join(ROOT, "node_modules/.bin/node");
const run = promisify(execFile);
const DAY_MS = 86_400_000;
/** A fixed week (Monday 30 Nov – Sunday 6 Dec 2026, UTC): the demo data is a pure function of it. */
const END = Date.UTC(2026, 11, 7);
const DAYS = 7;
const WEEK = "2026-11-30";
/** Ten files: the upload quota's minute, and every domain of a narrative. */
const TYPES = [
  "HeartRate",
  "RestingHeartRate",
  "BloodPressure",
  "BloodGlucose",
  "SleepSession",
  "Steps",
  "ExerciseSession",
  "Weight",
  "Height",
  "HeartRateVariabilityRmssd",
] as const;
const SAMPLES = resolve(ROOT, "../shared/data/health-connect/samples");
/** Observations and sessions each sample yields, all in range (test/worker/ingest.test.ts reads the same files). */
const EXPECTED: Record<string, number> = {
  ActiveCaloriesBurned: 1,
  BloodGlucose: 12,
  HeartRate: 15,
  HeartRateVariabilityRmssd: 6,
  SleepSession: 1,
  Steps: 1,
};

const records = demoRecords({ days: DAYS, end: END });

/** Everything the server sent, validated once the last request is answered. */
const received: Resource[] = [];
let server: DevServer | undefined;
let outDir: string | undefined;
beforeAll(async () => {
  server = await startDevServer();
});
afterAll(async () => {
  await server?.stop();
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

interface Account {
  token: string;
  userId: string;
}

/** `eval "$(npm run -s dev:signup)"`: the exported PULSE_TOKEN and PULSE_USER_ID. */
async function signUp(url: string): Promise<Account> {
  const { stdout } = await run(NODE, ["scripts/dev-signup.mjs", "--url", url], { cwd: ROOT });
  const value = (name: string) => {
    const found = new RegExp(`^export ${name}=(".*")$`, "m").exec(stdout)?.[1];
    if (!found) throw new Error(`dev-signup printed no ${name}:\n${stdout}`);
    return JSON.parse(found) as string;
  };
  return { token: value("PULSE_TOKEN"), userId: value("PULSE_USER_ID") };
}

/** `npm run upload -- $(npm run -s dev:demo-data -- --only …)`: accepted count per record type. */
async function uploadDemoData(url: string, token: string): Promise<Record<(typeof TYPES)[number], number>> {
  outDir = mkdtempSync(join(tmpdir(), "pulse-fhir-demo-"));
  const demo = await run(
    NODE,
    ["scripts/demo-data.mjs", "--days", String(DAYS), "--end", String(END), "--out", outDir, "--only", TYPES.join(",")],
    { cwd: ROOT },
  );
  const files = demo.stdout.trim().split("\n");
  expect(files).toHaveLength(TYPES.length);
  const { stdout } = await run(NODE, ["scripts/upload.mjs", "--url", url, "--token", token, ...files], { cwd: ROOT });
  const accepted: Record<string, number> = {};
  for (const match of stdout.matchAll(
    /\/(\w+)Record_\d+\.avro: upl_\w+ completed: accepted (\d+), duplicate 0, flagged 0, rejected 0$/gm,
  )) {
    accepted[match[1] ?? ""] = Number(match[2]);
  }
  expect(Object.keys(accepted).sort(), stdout).toEqual([...TYPES].sort());
  return accepted as Record<(typeof TYPES)[number], number>;
}

/** Validation errors of one resource: the R4 base definition, then each profile it claims. */
function problems(resource: Resource): string[] {
  const found = errors(resource).map((issue) => `${resource.resourceType}/${resource.id}: ${issue.details?.text}`);
  for (const profile of resource.meta?.profile ?? []) {
    for (const issue of errors(resource, profile))
      found.push(`${resource.resourceType}/${resource.id} (${profile}): ${issue.details?.text}`);
  }
  return found;
}

type Page = Parameters<Client["nextPage"]>[0]["bundle"];

/**
 * Every resource of a search, following `next` until the server gives none. The pages are kept for
 * validation after the last request: validating is synchronous, and a keep-alive connection the
 * server closed meanwhile would be reused by the next request before Node notices it is gone.
 */
async function searchAll(client: Client, resourceType: string, searchParams: Record<string, string | string[] | number>) {
  const resources: Resource[] = [];
  const pageSizes: number[] = [];
  let bundle: Page | undefined = (await client.search({ resourceType, searchParams })) as Page;
  while (bundle !== undefined) {
    const page = bundle as unknown as Bundle;
    expect(page).toMatchObject({ resourceType: "Bundle", type: "searchset" });
    received.push(page);
    const entries = page.entry ?? [];
    pageSizes.push(entries.length);
    for (const entry of entries) if (entry.resource) resources.push(entry.resource);
    bundle = (await client.nextPage({ bundle })) as Page | undefined;
  }
  return { resources, pageSizes };
}

/** Signs up through scripts/dev-signup.mjs and returns the access token it exports. */
async function signUpToken(url: string): Promise<string> {
  const { stdout } = await promisify(execFile)(NODE, ["scripts/dev-signup.mjs", "--url", url], { cwd: ROOT });
  const token = /^export PULSE_TOKEN=(".*")$/m.exec(stdout)?.[1];
  if (!token) throw new Error(`dev-signup printed no token:\n${stdout}`);
  return JSON.parse(token) as string;
}

async function waitUntilDone(pulse: PulseClient, id: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { data, error } = await pulse.GET("/v1/uploads/{id}", { params: { path: { id } } });
    if (!data) throw new Error(`GET /v1/uploads/${id} refused: ${JSON.stringify(error)}`);
    if (data.status === "completed" || data.status === "failed" || Date.now() > deadline) return data;
    await new Promise((done) => setTimeout(done, 250));
  }
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
const utcDate = (t: number) => new Date(t).toISOString().slice(0, 10);

interface Figure {
  code: string;
  value: number | null;
}
interface Section {
  domain: string;
  sentences: string[];
  figures: Figure[];
  coverage: { samples: number; daysWithData: number; days: number };
}

describe("a FHIR client and a new user against npm run dev", () => {
  it("reads, searches, pages and exports valid FHIR, and the week's narrative matches the uploaded data", async () => {
    if (!server) throw new Error("the dev server did not start");
    // WebAuthn's RP ID is `localhost` in development: sign up on that host name.
    const url = server.url.replace("127.0.0.1", "localhost");
    const { token, userId } = await signUp(url);
    const accepted = await uploadDemoData(url, token);
    expect(accepted.HeartRate).toBe(DAYS * 1440);
    expect(accepted.BloodPressure).toBe(DAYS * 2 * 2);

    const fhir = new Client({ baseUrl: `${url}/v1/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });

    const statement = (await fhir.capabilityStatement()) as unknown as CapabilityStatement;
    expect(statement).toMatchObject({ resourceType: "CapabilityStatement", fhirVersion: "4.0.1" });
    expect(statement.rest?.[0]?.resource?.map((resource) => resource.type)).toEqual(["Patient", "Observation", "Device"]);
    received.push(statement);

    // Heart rate on the last day (UTC), 500 a page, to the end: every minute of that day once.
    const lastDay = END - DAY_MS;
    const heart = await searchAll(fhir, "Observation", {
      code: "http://loinc.org|8867-4",
      date: `ge${utcDate(lastDay)}`,
      _count: 500,
    });
    const expectedHeart = records.HeartRate.flatMap(
      (record: { samples: { timeEpochMillis: number; beatsPerMinute: number }[] }) =>
        record.samples.filter((s) => s.timeEpochMillis >= lastDay),
    );
    expect(expectedHeart).toHaveLength(1440);
    expect(heart.pageSizes).toEqual([500, 500, 440]);
    const heartObservations = heart.resources as Observation[];
    expect(heartObservations.map((o) => Date.parse(o.effectiveDateTime ?? ""))).toEqual(
      expectedHeart.map((s) => s.timeEpochMillis),
    );
    expect(heartObservations.map((o) => o.valueQuantity?.value)).toEqual(expectedHeart.map((s) => s.beatsPerMinute));
    expect(new Set(heartObservations.map((o) => o.id)).size).toBe(1440);
    expect(heartObservations.every((o) => o.meta?.profile?.includes("http://hl7.org/fhir/StructureDefinition/heartrate"))).toBe(
      true,
    );

    // The blood-pressure panels of the week: one per cuff reading, systolic and diastolic as components.
    const bp = await searchAll(fhir, "Observation", { code: "85354-9", date: [`ge${WEEK}`, `lt${utcDate(END)}`], _count: 10 });
    expect(bp.pageSizes).toEqual([10, 4]);
    const panels = bp.resources as Observation[];
    const component = (o: Observation, loinc: string) =>
      o.component?.find((c) => c.code.coding?.some((coding) => coding.code === loinc))?.valueQuantity?.value;
    expect(panels.map((o) => [Date.parse(o.effectiveDateTime ?? ""), component(o, "8480-6"), component(o, "8462-4")])).toEqual(
      records.BloodPressure.map((r: { timeEpochMillis: number; systolic: number; diastolic: number }) => [
        r.timeEpochMillis,
        r.systolic,
        r.diastolic,
      ]),
    );
    expect(panels.every((o) => o.meta?.profile?.includes("http://hl7.org/fhir/StructureDefinition/bp"))).toBe(true);

    // One Observation by id is the resource the search gave.
    const one = heartObservations[0];
    if (!one?.id) throw new Error("no heart-rate observation");
    const read = (await fhir.read({ resourceType: "Observation", id: one.id })) as unknown as Observation;
    expect(read).toEqual(one);
    await expect(fhir.read({ resourceType: "Observation", id: "obs-0" })).rejects.toMatchObject({
      response: { status: 404, data: { resourceType: "OperationOutcome" } },
    });

    // The Patient is the signed-up user; the Devices are those the demo files name.
    const patientId = userId.replace("usr_", "usr-");
    const patient = (await fhir.read({ resourceType: "Patient", id: patientId })) as unknown as Patient;
    expect(patient).toMatchObject({ resourceType: "Patient", id: patientId, active: true });
    received.push(patient, read);
    const devices = (await searchAll(fhir, "Device", {})).resources as Device[];
    expect(devices.map((d) => d.deviceName?.[0]?.name).sort()).toEqual(
      [
        "Dexcom G7",
        "Google Pixel 9",
        "Google Pixel Watch 3",
        "Withings BPM Connect",
        "Withings Body+",
        "com.dexcom.g7",
        "com.google.android.apps.fitness",
        "com.withings.wiscale2",
      ].sort(),
    );
    expect(devices.every((d) => d.patient?.reference === `Patient/${patientId}`)).toBe(true);
    // The bulk export: one collection Bundle holding everything uploaded, every entry valid.
    const exported = await fetch(`${url}/v1/me/export/fhir`, { headers: { Authorization: `Bearer ${token}` } }).catch((e) => {
      throw e;
    });
    expect(exported.status).toBe(200);
    expect(exported.headers.get("Content-Type")).toMatch(/^application\/fhir\+json/);
    const bundle = (await exported.json()) as Bundle;
    expect(bundle).toMatchObject({ resourceType: "Bundle", type: "collection" });
    const entries = (bundle.entry ?? []).map((entry) => entry.resource as Resource);
    const count = (type: string) => entries.filter((r) => r.resourceType === type).length;
    // Each sample is an Observation, each cuff reading one panel, each night and run one more.
    const observations =
      accepted.HeartRate +
      accepted.RestingHeartRate +
      accepted.BloodGlucose +
      accepted.Steps +
      accepted.Weight +
      accepted.Height +
      accepted.HeartRateVariabilityRmssd +
      accepted.BloodPressure / 2 +
      accepted.SleepSession +
      accepted.ExerciseSession;
    expect([count("Patient"), count("Observation")]).toEqual([1, observations]);
    // The export's Devices are those that recorded data (the read API lists the source apps too):
    // exactly what the Observations reference, so every reference resolves inside the Bundle.
    const exportedDevices = entries.filter((r) => r.resourceType === "Device").map((r) => `Device/${r.id}`);
    const referenced = new Set(
      entries.flatMap((r) => (r.resourceType === "Observation" && r.device?.reference ? [r.device.reference] : [])),
    );
    expect([...referenced].sort()).toEqual([...exportedDevices].sort());
    expect(exportedDevices.every((ref) => devices.some((d) => `Device/${d.id}` === ref))).toBe(true);
    expect(exportedDevices).toHaveLength(5);
    const { entry: _entries, ...envelope } = bundle;
    received.push(envelope as Bundle, ...entries);

    // The week's narrative: a section for every domain the files cover, figures as the records give them.
    const res = await fetch(`${url}/v1/narratives?period=week&date=2026-12-02&tz=UTC`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const narrative = (await res.json()) as { date: string; endDate: string; sections: Section[]; noData: string[] };

    // No request after this: every resource received, R4 and the profiles each claims.
    expect(received.length).toBeGreaterThan(observations);
    expect(received.flatMap(problems)).toEqual([]);

    expect([narrative.date, narrative.endDate]).toEqual([WEEK, "2026-12-06"]);
    expect(narrative.sections.map((s) => s.domain)).toEqual(["glucose", "heart", "blood_pressure", "sleep", "activity", "body"]);
    expect(narrative.noData).toEqual([]);
    const figure = (domain: string, code: string) =>
      narrative.sections.find((s) => s.domain === domain)?.figures.find((f) => f.code === code)?.value;
    const round = (value: number, decimals = 0) => Math.round(value * 10 ** decimals) / 10 ** decimals;

    const glucose = records.BloodGlucose.map((r: { levelInMilligramsPerDeciliter: number }) => r.levelInMilligramsPerDeciliter);
    expect(figure("glucose", "readings")).toBe(DAYS * 288);
    expect(figure("glucose", "mean_glucose")).toBe(round(mean(glucose)));
    expect(figure("glucose", "gmi")).toBe(round(3.31 + 0.02392 * round(mean(glucose)), 1));

    const resting = records.RestingHeartRate.map((r: { beatsPerMinute: number }) => r.beatsPerMinute);
    expect(figure("heart", "resting_heart_rate")).toBe(round(mean(resting)));
    const allHeart = records.HeartRate.flatMap((r: { samples: { beatsPerMinute: number }[] }) =>
      r.samples.map((s) => s.beatsPerMinute),
    );
    expect(figure("heart", "heart_rate_samples")).toBe(DAYS * 1440);
    expect(figure("heart", "max_heart_rate")).toBe(Math.max(...allHeart));

    const cuff = records.BloodPressure as { systolic: number; diastolic: number }[];
    expect(figure("blood_pressure", "mean_systolic")).toBe(round(mean(cuff.map((r) => r.systolic))));
    expect(figure("blood_pressure", "mean_diastolic")).toBe(round(mean(cuff.map((r) => r.diastolic))));
    expect(figure("blood_pressure", "readings")).toBe(DAYS * 2);
    // The sentence a clinician reads carries the same numbers.
    const [sys, dia] = [round(mean(cuff.map((r) => r.systolic))), round(mean(cuff.map((r) => r.diastolic)))];
    expect(narrative.sections.find((s) => s.domain === "blood_pressure")?.sentences[0]).toMatch(
      new RegExp(
        `^Mean blood pressure ${sys}/${dia} mmHg from 14 readings on 7 days: (normal|elevated|stage 1 hypertension|stage 2 hypertension) by the ACC/AHA 2017 categories\\.$`,
      ),
    );

    // A night counts for the day it ended on: the last night ends on Monday 7 Dec, after the week.
    const nights = (records.SleepSession as { startTimeEpochMillis: number; endTimeEpochMillis: number }[]).filter(
      (s) => s.endTimeEpochMillis < END,
    );
    expect(figure("sleep", "nights")).toBe(DAYS - 1);
    expect(figure("sleep", "time_in_bed")).toBe(
      round(mean(nights.map((s) => (s.endTimeEpochMillis - s.startTimeEpochMillis) / 60_000))),
    );

    const steps = records.Steps as { startTimeEpochMillis: number; count: number }[];
    expect(figure("activity", "steps")).toBe(steps.reduce((sum, r) => sum + r.count, 0));
    const sunday = steps.filter((r) => utcDate(r.startTimeEpochMillis) === "2026-12-06").reduce((sum, r) => sum + r.count, 0);
    expect(figure("activity", "steps_2026-12-06")).toBe(sunday);
    expect(figure("activity", "workouts")).toBe(records.ExerciseSession.length);

    const weights = records.Weight.map((r: { weightInKilograms: number }) => r.weightInKilograms);
    expect(figure("body", "weight")).toBe(weights.at(-1));
    expect(figure("body", "weight_change")).toBe(round((weights.at(-1) ?? 0) - (weights[0] ?? 0), 1));
    expect(figure("body", "bmi")).toBe(round((weights.at(-1) ?? 0) / 1.78 ** 2, 1));
    // A week of every record type goes through the real ingest queue, then each resource is validated
    // against its profiles: about 40 s on an idle machine, so the default minute is too tight on a busy one.
  }, 180_000);
});

describe("the generated client against npm run dev", () => {
  it("uploads the Health Connect samples and reads each one back completed, with its counts", async () => {
    if (!server) throw new Error("the dev server did not start");
    // WebAuthn's RP ID is `localhost` in development: sign up on that host name.
    const token = await signUpToken(server.url.replace("127.0.0.1", "localhost"));
    const pulse = createPulseClient({ baseUrl: server.url, token });

    const files = (await readdir(SAMPLES)).filter((name) => name.endsWith(".avro")).sort();
    expect(files).toHaveLength(Object.keys(EXPECTED).length);
    const ids: string[] = [];
    for (const name of files) {
      const { data, error, response } = await pulse.POST("/v1/uploads", uploadBody(await openAsBlob(join(SAMPLES, name)), name));
      expect(error).toBeUndefined();
      expect(response.status).toBe(202);
      expect(data).toMatchObject({ status: "queued", statusUrl: `/v1/uploads/${data?.uploadId}` });
      ids.push(data?.uploadId ?? "");
    }

    for (const id of ids) {
      const upload = await waitUntilDone(pulse, id);
      expect(upload).toMatchObject({
        status: "completed",
        error: null,
        counts: { accepted: EXPECTED[upload.recordType], duplicate: 0, flagged: 0, rejected: 0 },
      });
      expect(upload.completedAt).not.toBeNull();
    }

    const { data: page } = await pulse.GET("/v1/uploads", { params: { query: { limit: 50 } } });
    expect(page?.items.map((upload) => upload.id).sort()).toEqual([...ids].sort());

    const again = await pulse.POST("/v1/uploads", uploadBody(await openAsBlob(join(SAMPLES, files[0] ?? "")), "again.avro"));
    expect(again.response.status).toBe(200);
    expect(again.data?.uploadId).toBe(ids[0]);
  });
});
