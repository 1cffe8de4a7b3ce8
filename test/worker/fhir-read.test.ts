import { env } from "cloudflare:workers";
import type { Bundle, CapabilityStatement, Device, Observation, Patient } from "@medplum/fhirtypes";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { describeEvent } from "../../src/access-log/describe";
import { OBSERVATION_SEARCH_PARAMETERS } from "../../src/fhir/search";
import { acceptCurrentConsent } from "./helpers/consent";
import { expectOutcome, FHIR_BASE, fhirGet, fhirOk, store } from "./helpers/fhir";
import { insertGrant } from "./helpers/grants";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The FHIR API outside Observation search: `metadata`, content negotiation, Observation, Patient
 * and Device reads, and every kind of error as an OperationOutcome.
 */
const app = createTestApp();
const at = (iso: string) => Date.parse(iso);
const REASON = "treatment; FHIR import";

async function patientWithData(): Promise<SessionUser> {
  const user = await createSessionUser();
  await store(user.user.id, {
    observations: [
      observationInput("heart_rate", "bpm", at("2026-01-15T08:00:00Z"), 60, { device: "Pixel Watch" }),
      observationInput("blood_glucose", "mg/dL", at("2026-01-15T07:00:00Z"), 110, { sourceApp: "com.dexcom.g7" }),
    ],
  });
  return user;
}

const patientRef = (user: SessionUser) => `usr-${user.user.id.slice(4)}`;

async function firstHeartRate(user: SessionUser): Promise<Observation> {
  const bundle = await fhirOk<Bundle>(await fhirGet(app, user, "/v1/fhir/Observation?code=8867-4"));
  return bundle.entry?.[0]?.resource as Observation;
}

describe("metadata", () => {
  it("answers the CapabilityStatement without sign-in, in FHIR JSON", async () => {
    const statement = await fhirOk<CapabilityStatement>(await fhirGet(app, null, "/v1/fhir/metadata"));
    expect(statement).toMatchObject({ resourceType: "CapabilityStatement", fhirVersion: "4.0.1" });
  });

  it("advertises exactly the Observation search parameters the server accepts", async () => {
    const statement = await fhirOk<CapabilityStatement>(await fhirGet(app, null, "/v1/fhir/metadata"));
    const observation = statement.rest?.[0]?.resource?.find((resource) => resource.type === "Observation");
    const advertised = (observation?.searchParam ?? []).map((param) => param.name).sort();
    expect(advertised).toEqual([...OBSERVATION_SEARCH_PARAMETERS].sort());
  });

  it("refuses unknown parameters and XML", async () => {
    await expectOutcome(await fhirGet(app, null, "/v1/fhir/metadata?mode=full"), 400, "invalid");
    await expectOutcome(await fhirGet(app, null, "/v1/fhir/metadata?_format=xml"), 406, "not-supported");
  });
});

describe("content negotiation", () => {
  for (const format of ["json", "application/json", "application/fhir%2Bjson", "application/fhir+json"]) {
    it(`_format=${decodeURIComponent(format)} is FHIR JSON`, async () => {
      const user = await patientWithData();
      await fhirOk<Bundle>(await fhirGet(app, user, `/v1/fhir/Observation?code=8867-4&_format=${format}`));
    });
  }

  for (const accept of [
    "application/fhir+json",
    "application/json",
    "text/html, application/xhtml+xml, */*;q=0.8",
    "application/*",
  ]) {
    it(`Accept: ${accept} is FHIR JSON`, async () => {
      const user = await patientWithData();
      await fhirOk<Bundle>(await fhirGet(app, user, "/v1/fhir/Observation?code=8867-4", { Accept: accept }));
    });
  }

  for (const [how, path, headers] of [
    ["_format=xml", "/v1/fhir/Observation?_format=xml", {}],
    ["_format=application/fhir+xml", "/v1/fhir/Observation?_format=application/fhir%2Bxml", {}],
    ["_format=ttl", "/v1/fhir/Patient?_format=ttl", {}],
    ["Accept: application/fhir+xml", "/v1/fhir/Observation", { Accept: "application/fhir+xml" }],
    ["Accept: application/xml, text/xml", "/v1/fhir/Device", { Accept: "application/xml, text/xml" }],
    ["Accept: application/json;q=0", "/v1/fhir/Observation", { Accept: "application/json;q=0" }],
  ] as const) {
    it(`${how} → 406 OperationOutcome, before anything is read`, async () => {
      const user = await patientWithData();
      const outcome = await expectOutcome(await fhirGet(app, user, path, headers), 406, "not-supported");
      expect(outcome.issue?.[0]?.details?.text).toMatch(/FHIR JSON only/);
      expect(outcome.issue?.[0]?.diagnostics).toMatch(/^NOT_ACCEPTABLE; requestId /);
    });
  }
});

describe("Observation read", () => {
  it("reads a sample by id as the search showed it, recorded with its metric, instant and id", async () => {
    const user = await patientWithData();
    const found = await firstHeartRate(user);
    const read = await fhirOk<Observation>(await fhirGet(app, user, `/v1/fhir/Observation/${found.id}`));
    expect(read).toEqual(found);
    expect(read.valueQuantity?.value).toBe(60);
    const [event] = (await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 1 })).items;
    expect(event).toMatchObject({
      action: "observations.read",
      resource: `observations;p=2026-01-15T08:00:00.000Z/2026-01-15T08:00:00.001Z;m=heart_rate;id=${found.id}`,
    });
    expect(event === undefined ? "" : describeEvent(event)).toBe("Read heart rate at 15 Jan 2026 08:00 UTC");
  });

  it("answers 404 for another user's id, ids Pulse never issues, and unknown rows, recording nothing", async () => {
    const owner = await patientWithData();
    const intruder = await patientWithData();
    const theirs = await firstHeartRate(owner);
    const res = await fhirGet(app, intruder, `/v1/fhir/Observation/${theirs.id}?patient=${patientRef(owner)}`);
    await expectOutcome(res, 404, "not-found");
    // Ids are per person: the same id without a patient names the intruder's own row, never the owner's.
    const own = await fhirOk<Observation>(await fhirGet(app, intruder, `/v1/fhir/Observation/${theirs.id}`));
    expect(own.subject?.reference).toBe(`Patient/${patientRef(intruder)}`);
    const seq = (await healthStoreFor(env.HEALTH_STORE, intruder.user.id).accessLog({ limit: 1 })).items[0]?.seq;
    for (const id of ["obs-0", "obs-abc", "obs-99999999999999999", "bp-", "xyz", "hourly-heart-rate-1.5", "obs-999999"]) {
      await expectOutcome(await fhirGet(app, intruder, `/v1/fhir/Observation/${id}`), 404, "not-found");
    }
    expect((await healthStoreFor(env.HEALTH_STORE, intruder.user.id).accessLog({ limit: 1 })).items[0]?.seq).toBe(seq);
  });

  it("refuses unknown parameters on a read", async () => {
    const user = await patientWithData();
    const found = await firstHeartRate(user);
    const outcome = await expectOutcome(
      await fhirGet(app, user, `/v1/fhir/Observation/${found.id}?_elements=id`),
      400,
      "invalid",
    );
    expect(outcome.issue?.some((issue) => issue.expression?.includes("_elements"))).toBe(true);
  });
});

describe("Patient", () => {
  it("reads the caller themself, by id and by search", async () => {
    const user = await createSessionUser();
    const ref = patientRef(user);
    const patient = await fhirOk<Patient>(await fhirGet(app, user, `/v1/fhir/Patient/${ref}`));
    expect(patient).toMatchObject({ resourceType: "Patient", id: ref });
    // The user id as sign-up prints it reads the same Patient, answered with its FHIR id.
    expect(await fhirOk<Patient>(await fhirGet(app, user, `/v1/fhir/Patient/${user.user.id}`))).toEqual(patient);
    const mine = await fhirOk<Bundle>(await fhirGet(app, user, "/v1/fhir/Patient"));
    expect(mine.entry?.map((entry) => [entry.fullUrl, entry.resource?.id])).toEqual([[`${FHIR_BASE}/Patient/${ref}`, ref]]);
    const byId = await fhirOk<Bundle>(await fhirGet(app, user, `/v1/fhir/Patient?_id=${ref}`));
    expect(byId.entry?.map((entry) => entry.resource?.id)).toEqual([ref]);
  });

  it("answers 404 for anyone else (an empty Bundle when searched), whatever the id's form", async () => {
    const user = await createSessionUser();
    const other = await createSessionUser();
    for (const id of [patientRef(other), other.user.id, "usr-x", "123"]) {
      await expectOutcome(await fhirGet(app, user, `/v1/fhir/Patient/${id}`), 404, "not-found");
    }
    const none = await fhirOk<Bundle>(await fhirGet(app, user, `/v1/fhir/Patient?_id=${patientRef(other)}`));
    expect(none.entry).toEqual([]);
    await expectOutcome(await fhirGet(app, user, "/v1/fhir/Patient?name=Test"), 400, "invalid");
  });

  it("reads a patient who shared with the grantee, with a reason", async () => {
    const patient = await createSessionUser();
    await acceptCurrentConsent(patient.user.id);
    const clinician = await createSessionUser({ role: "clinician" });
    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, categories: ["sleep"] });
    const path = `/v1/fhir/Patient/${patientRef(patient)}`;
    expect(await fhirOk<Patient>(await fhirGet(app, clinician, path, { "X-Access-Reason": REASON }))).toMatchObject({
      id: patientRef(patient),
    });
    await expectOutcome(await fhirGet(app, clinician, path), 400, "invalid");
  });
});

describe("Device", () => {
  it("lists the devices and apps of the person's data and reads each by id, recorded as devices.read", async () => {
    const user = await patientWithData();
    const bundle = await fhirOk<Bundle>(await fhirGet(app, user, "/v1/fhir/Device"));
    const devices = (bundle.entry ?? []).map((entry) => entry.resource as Device);
    const names = devices.map((device) => device.deviceName?.[0]?.name).sort();
    expect(names).toEqual(["Pixel Watch", "com.dexcom.g7", "com.example.health"]);
    for (const [index, device] of devices.entries()) {
      expect(bundle.entry?.[index]?.fullUrl).toBe(`${FHIR_BASE}/Device/${device.id}`);
      expect(await fhirOk<Device>(await fhirGet(app, user, `/v1/fhir/Device/${device.id}`))).toEqual(device);
    }
    await expectOutcome(await fhirGet(app, user, "/v1/fhir/Device/dev-0"), 404, "not-found");
    const [event] = (await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 1 })).items;
    expect(event).toMatchObject({ action: "devices.read", resource: "devices" });
    expect(event === undefined ? "" : describeEvent(event)).toBe("Read the list of devices and apps your data came from");
  });

  it("shows a grantee only the sources of the shared categories", async () => {
    const patient = await patientWithData();
    await acceptCurrentConsent(patient.user.id);
    const clinician = await createSessionUser({ role: "clinician" });
    await insertGrant({ patientId: patient.user.id, granteeId: clinician.user.id, categories: ["glucose"] });
    const bundle = await fhirOk<Bundle>(
      await fhirGet(app, clinician, `/v1/fhir/Device?patient=Patient/${patientRef(patient)}`, { "X-Access-Reason": REASON }),
    );
    expect((bundle.entry ?? []).map((entry) => (entry.resource as Device).deviceName?.[0]?.name)).toEqual(["com.dexcom.g7"]);
    await expectOutcome(
      await fhirGet(app, clinician, "/v1/fhir/Device?patient=nobody", { "X-Access-Reason": REASON }),
      404,
      "not-found",
    );
  });
});

describe("errors are OperationOutcomes", () => {
  it("401 without a token, with WWW-Authenticate", async () => {
    const res = await call(app, "/v1/fhir/Observation");
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    await expectOutcome(res, 401, "login");
  });

  it("405 for a write, with Allow", async () => {
    const user = await createSessionUser();
    const res = await call(app, "/v1/fhir/Observation", {
      method: "POST",
      headers: { ...user.headers, "Content-Type": "application/fhir+json" },
      body: JSON.stringify({ resourceType: "Observation" }),
    });
    expect(res.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    await expectOutcome(res, 405, "not-supported");
  });

  it("404 for a resource type Pulse does not serve", async () => {
    const user = await createSessionUser();
    await expectOutcome(await fhirGet(app, user, "/v1/fhir/Encounter"), 404, "not-found");
  });
});
