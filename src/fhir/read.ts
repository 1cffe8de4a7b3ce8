import type { Bundle, BundleEntry, Device, Observation as FhirObservation, Patient } from "@medplum/fhirtypes";
import { eq } from "drizzle-orm";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { FhirReadItem } from "../../durable-objects/health-store/fhir";
import { UTC_ZONE } from "../../durable-objects/health-store/zone";
import { formatAuditResource } from "../audit/resource";
import { users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { type FhirCaller, type FhirReader, fhirReader, noteRead, requirePatientFor } from "./access";
import {
  allSelected,
  intersect,
  isEmptySelection,
  type Selection,
  selectByCategories,
  selectByCodes,
  selectionOfCategories,
  sharingCategories,
} from "./codes";
import { isEmpty } from "./dates";
import { parseObservationId } from "./ids";
import {
  bloodPressureObservation,
  deviceResource,
  type FhirContext,
  hourlyObservation,
  patientResource,
  sampleObservation,
  sleepObservation,
  workoutObservation,
} from "./resources";
import type { ObservationSearch } from "./search";

/**
 * The FHIR API's domain functions: each resolves whose data is read (./access.ts), makes one
 * audited HealthStore call, and maps what it answers with the mapping functions of ./resources.ts.
 */
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Hourly summaries span at most this much per request, as the read API's hourly buckets do. */
const MAX_HOURLY_SPAN_MS = 92 * DAY_MS;

type Stores = FhirCaller["stores"];

export interface FhirRequest {
  caller: FhirCaller;
  /** e.g. `https://api.example/v1/fhir`. */
  baseUrl: string;
  /** The request URL as received: the search's `self` link. */
  url: URL;
}

export async function searchObservations(req: FhirRequest, search: ObservationSearch): Promise<Bundle> {
  requirePatientFor(req.caller, search.patient);
  if (search.patientMalformed) throw notFound("Patient");
  let asked = allSelected();
  if (search.codes !== undefined) asked = selectByCodes(search.codes);
  if (search.categories !== undefined) asked = intersect(asked, selectByCategories(search.categories));
  const filtered = search.codes !== undefined || search.categories !== undefined;
  // Codes name exactly what is read: each must be shared. A category may span several sharing
  // categories (vital-signs holds vitals and body measurements): it reads the part that is shared.
  const need =
    search.codes !== undefined
      ? { required: sharingCategories(asked), denied: deniedSearch(asked) }
      : search.categories !== undefined
        ? { preferred: sharingCategories(asked) }
        : {};
  const reader = await fhirReader(req.caller, search.patient, need);
  const selection = reader.categories === undefined ? asked : intersect(asked, selectionOfCategories(reader.categories));
  if (reader.categories !== undefined && !isEmptySelection(asked) && isEmptySelection(selection)) {
    await healthStoreFor(req.caller.stores, reader.userId).appendAuditEvent(
      { ...deniedSearch(asked), result: "denied" },
      { ...reader.audit, subject: reader.userId },
    );
    throw new DomainError("FORBIDDEN", `The patient has not shared data of category ${search.categories?.join(", ")} with you.`, {
      extensions: { categories: sharingCategories(asked) },
    });
  }
  const ctx: FhirContext = { baseUrl: req.baseUrl, userId: reader.userId };
  const page = search.hourly
    ? await hourlyPage(req.caller.stores, reader, search, selection, ctx)
    : await observationPage(req.caller.stores, reader, search, selection, ctx, filtered);
  await noteRead(req.caller, reader);
  return searchset(req, page.resources, page.nextCursor);
}

interface ResourcePage {
  resources: FhirObservation[];
  nextCursor: string | null;
}

async function observationPage(
  stores: Stores,
  reader: FhirReader,
  search: ObservationSearch,
  selection: Selection,
  ctx: FhirContext,
  filtered: boolean,
): Promise<ResourcePage> {
  // Nothing can match: no store is read and nothing is recorded as read.
  if (isEmptySelection(selection) || isEmpty(search.bounds)) return { resources: [], nextCursor: null };
  const everything = !filtered && reader.categories === undefined;
  const page = await healthStoreFor(stores, reader.userId).fhirSearch(
    {
      ...(everything ? {} : { metrics: [...selection.metrics] }),
      bloodPressure: selection.bloodPressure,
      sleep: selection.sleep,
      workouts: selection.workouts,
      start: search.bounds.start,
      end: search.bounds.end,
      ...(reader.within === undefined ? {} : { within: reader.within }),
      order: search.order,
      limit: search.count,
      ...(search.cursor === undefined ? {} : { cursor: search.cursor }),
    },
    { ...reader.audit, subject: reader.userId },
  );
  return { resources: page.items.map((item) => toResource(item, ctx)), nextCursor: page.nextCursor };
}

/**
 * Hourly summaries of the selected metrics: UTC hours lying wholly inside the date range (and a
 * grantee's period), oldest first. Sessions and panels are not summarised.
 */
async function hourlyPage(
  stores: Stores,
  reader: FhirReader,
  search: ObservationSearch,
  selection: Selection,
  ctx: FhirContext,
): Promise<ResourcePage> {
  if (search.codes === undefined || selection.sleep || selection.workouts || selection.bloodPressure) {
    throw invalid(
      "resolution",
      "resolution=hour summarises sample metrics: name them with code (not sleep, workouts or 85354-9)",
    );
  }
  if (search.order === "desc") throw invalid("_sort", "hourly summaries are listed oldest first only");
  const { start, end } = search.bounds;
  const lows = [start.min, end.min, reader.within?.since].filter((value) => value !== undefined);
  const highs = [start.max, end.max, reader.within?.until].filter((value) => value !== undefined);
  if (start.min === undefined && end.min === undefined) throw invalid("date", "resolution=hour needs a lower bound: date=ge…");
  if (start.max === undefined && end.max === undefined) throw invalid("date", "resolution=hour needs an upper bound: date=lt…");
  const since = Math.ceil(Math.max(...lows) / HOUR_MS) * HOUR_MS;
  const until = Math.max(since, Math.floor(Math.min(...highs) / HOUR_MS) * HOUR_MS);
  if (until - since > MAX_HOURLY_SPAN_MS) throw invalid("date", "resolution=hour spans at most 92 days per search");
  if (selection.metrics.size === 0 || until === since) return { resources: [], nextCursor: null };
  const page = await healthStoreFor(stores, reader.userId).queryObservations(
    {
      metrics: [...selection.metrics],
      since,
      until,
      resolution: "hour",
      zone: UTC_ZONE,
      limit: search.count,
      ...(search.cursor === undefined ? {} : { cursor: search.cursor }),
      cursorScope: "fhir",
    },
    { ...reader.audit, subject: reader.userId },
  );
  if (page.resolution === "raw") throw new Error("unreachable: hourly read answered raw");
  return { resources: page.items.map((bucket) => hourlyObservation(bucket, ctx)), nextCursor: page.nextCursor };
}

/** One Observation by id; 404 for ids Pulse could not have issued and for anything not the reader's. */
export async function readObservation(req: FhirRequest, id: string, patient: string | undefined): Promise<FhirObservation> {
  const ref = parseObservationId(id);
  if (ref === null) throw notFound("Observation");
  const reader = await fhirReader(req.caller, patient);
  const item = await healthStoreFor(req.caller.stores, reader.userId).fhirObservation(ref, scopeOf(reader), {
    ...reader.audit,
    subject: reader.userId,
  });
  await noteRead(req.caller, reader);
  return toResource(item, { baseUrl: req.baseUrl, userId: reader.userId });
}

export async function searchDevices(req: FhirRequest, patient: string | undefined): Promise<Bundle> {
  const devices = await readDevices(req, patient);
  return searchset(req, devices, null);
}

export async function readDevice(req: FhirRequest, id: string, patient: string | undefined): Promise<Device> {
  const device = (await readDevices(req, patient)).find((candidate) => candidate.id === id);
  if (device === undefined) throw notFound("Device");
  return device;
}

async function readDevices(req: FhirRequest, patient: string | undefined): Promise<Device[]> {
  const reader = await fhirReader(req.caller, patient);
  const names = await healthStoreFor(req.caller.stores, reader.userId).fhirDevices(scopeOf(reader), {
    ...reader.audit,
    subject: reader.userId,
  });
  await noteRead(req.caller, reader);
  const ctx = { baseUrl: req.baseUrl, userId: reader.userId };
  return names.map((name) => deviceResource({ name }, ctx));
}

/** The caller themself, or a patient who shared with them (any category: the Patient is not health data). */
export async function readPatient(req: FhirRequest, userId: string | null): Promise<Patient> {
  if (userId === null) throw notFound("Patient");
  const reader = await fhirReader(req.caller, userId);
  const [row] = await req.caller.db
    .select({ displayName: users.displayName })
    .from(users)
    .where(eq(users.id, reader.userId))
    .limit(1);
  if (row === undefined) throw notFound("Patient");
  await noteRead(req.caller, reader);
  return patientResource(
    { userId: reader.userId, displayName: row.displayName },
    { baseUrl: req.baseUrl, userId: reader.userId },
  );
}

export async function searchPatients(req: FhirRequest, id: string | undefined): Promise<Bundle> {
  if (id === undefined) return searchset(req, [await readPatient(req, req.caller.userId)], null);
  const userId = /^usr-[a-z2-7]{26}$/.test(id) ? `usr_${id.slice(4)}` : null;
  try {
    return searchset(req, [await readPatient(req, userId)], null);
  } catch (error) {
    // A search that matches nothing is an empty Bundle, not a 404 (and still says nothing about the id).
    if (error instanceof DomainError && error.code === "NOT_FOUND") return searchset(req, [], null);
    throw error;
  }
}

function toResource(item: FhirReadItem, ctx: FhirContext): FhirObservation {
  switch (item.kind) {
    case "sample":
      return sampleObservation(item.observation, ctx);
    case "blood_pressure":
      return bloodPressureObservation(item.systolic, item.diastolic, ctx);
    case "sleep":
      return sleepObservation(item.session, ctx);
    case "workout":
      return workoutObservation(item.workout, ctx);
    case "hourly":
      return hourlyObservation(item.bucket, ctx);
  }
}

function scopeOf(reader: FhirReader) {
  const selection = reader.categories === undefined ? allSelected() : selectionOfCategories(reader.categories);
  return {
    ...(reader.categories === undefined ? {} : { metrics: [...selection.metrics] }),
    sleep: selection.sleep,
    workouts: selection.workouts,
    ...(reader.within === undefined ? {} : { within: reader.within }),
  };
}

function searchset(req: FhirRequest, resources: (FhirObservation | Device | Patient)[], nextCursor: string | null): Bundle {
  const entry: BundleEntry[] = resources.map((resource) => ({
    fullUrl: `${req.baseUrl}/${resource.resourceType}/${resource.id ?? ""}`,
    resource,
    search: { mode: "match" },
  }));
  const link = [{ relation: "self", url: req.url.toString() }];
  if (nextCursor !== null) {
    const next = new URL(req.url);
    next.searchParams.set("_cursor", nextCursor);
    link.push({ relation: "next", url: next.toString() });
  }
  return { resourceType: "Bundle", type: "searchset", link, entry };
}

/** The event recorded in the patient's chain when a grantee's search asks for what is not shared. */
function deniedSearch(selection: Selection) {
  const metrics = [...selection.metrics, ...(selection.sleep ? ["sleep"] : []), ...(selection.workouts ? ["workout"] : [])];
  return { action: "observations.read", resource: formatAuditResource({ kind: "observations", metrics }) };
}

function notFound(type: string): DomainError {
  return new DomainError("NOT_FOUND", `No ${type} with this id is yours or shared with you.`);
}

function invalid(path: string, message: string): DomainError {
  return new DomainError("VALIDATION_FAILED", `The search parameters are not valid: ${path}.`, { errors: [{ path, message }] });
}
