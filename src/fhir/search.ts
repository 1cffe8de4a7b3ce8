import { DomainError, type FieldError } from "../errors/domain-error";
import { type DateBounds, dateBounds } from "./dates";
import { userIdOfPatient } from "./ids";

/**
 * The query of `GET /v1/fhir/Observation`, read from the raw URL because FHIR repeats parameters
 * (`date=ge…&date=le…`). Every parameter Pulse does not implement is refused with a 400 naming it:
 * FHIR lets a server ignore what it does not support, but an ignored filter on health data answers
 * a different question than the one asked, and a clinician would not know.
 */
export const MAX_COUNT = 1_000;
export const DEFAULT_COUNT = 50;
const MAX_DATES = 8;

export interface ObservationSearch {
  /** The user id named by `patient`; undefined for the caller themself. */
  patient: string | undefined;
  /** True when `patient` was given but names no Pulse patient (answered like a stranger's: 404). */
  patientMalformed: boolean;
  codes: string[] | undefined;
  categories: string[] | undefined;
  bounds: DateBounds;
  count: number;
  order: "asc" | "desc";
  hourly: boolean;
  cursor: string | undefined;
}

/** Parameters that may be given once; `date` may repeat (each is ANDed). */
const SINGLE = ["patient", "subject", "code", "category", "_count", "_sort", "resolution", "_cursor", "_format"] as const;
/** Every Observation search parameter the server accepts (the CapabilityStatement lists them). */
export const OBSERVATION_SEARCH_PARAMETERS: readonly string[] = [...SINGLE, "date"];
const KNOWN = new Set<string>(OBSERVATION_SEARCH_PARAMETERS);

export function parseObservationSearch(params: URLSearchParams): ObservationSearch {
  const errors: FieldError[] = [];
  for (const name of new Set(params.keys())) {
    if (!KNOWN.has(name)) errors.push({ path: name, message: "not a search parameter this server supports" });
    else if (name !== "date" && params.getAll(name).length > 1) errors.push({ path: name, message: "give it once" });
  }
  // Each date value narrows the range; more than a handful is a mistake, not a search.
  if (params.getAll("date").length > MAX_DATES) errors.push({ path: "date", message: `at most ${MAX_DATES} date parameters` });
  if (params.has("patient") && params.has("subject"))
    errors.push({ path: "subject", message: "give patient or subject, not both" });
  if (errors.length > 0) throw invalid(errors);

  const patientValue = params.get("patient") ?? params.get("subject") ?? undefined;
  const patient = patientValue === undefined ? undefined : patientOf(patientValue);
  return {
    patient: patient ?? undefined,
    patientMalformed: patientValue !== undefined && patient === null,
    codes: tokens(params, "code"),
    categories: tokens(params, "category"),
    bounds: dateBounds(params.getAll("date")),
    count: count(params.get("_count")),
    order: order(params.get("_sort")),
    hourly: resolution(params.get("resolution")),
    cursor: cursor(params.get("_cursor")),
  };
}

/** Parameters of `GET /v1/fhir/Device` and `Patient`: only these, each once. */
export function parseOnly(params: URLSearchParams, allowed: readonly string[]): Record<string, string> {
  const errors: FieldError[] = [];
  const values: Record<string, string> = {};
  for (const name of new Set(params.keys())) {
    if (!allowed.includes(name)) errors.push({ path: name, message: "not a search parameter this server supports" });
    else if (params.getAll(name).length > 1) errors.push({ path: name, message: "give it once" });
    else values[name] = params.get(name) ?? "";
  }
  if (errors.length > 0) throw invalid(errors);
  return values;
}

/**
 * The user id of a patient reference: `Patient/usr-…`, `usr-…`, or an absolute URL ending in
 * `Patient/usr-…`; null for anything else.
 */
export function patientOf(value: string): string | null {
  const match = /^(?:(?:https?:\/\/[^?#]*\/)?Patient\/)?(usr[-_][a-z2-7]{26})$/.exec(value);
  return match?.[1] === undefined ? null : userIdOfPatient(match[1]);
}

function tokens(params: URLSearchParams, name: string): string[] | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  const list = value.split(",").map((token) => token.trim());
  if (list.some((token) => token === "" || token.length > 200) || list.length > 50) {
    throw invalid([{ path: name, message: "a comma-separated list of up to 50 tokens: system|code, |code or code" }]);
  }
  return list;
}

function count(value: string | null): number {
  if (value === null) return DEFAULT_COUNT;
  if (!/^[0-9]{1,7}$/.test(value) || Number(value) < 1 || Number(value) > MAX_COUNT) {
    throw invalid([{ path: "_count", message: `an integer from 1 to ${MAX_COUNT}` }]);
  }
  return Number(value);
}

function order(value: string | null): "asc" | "desc" {
  if (value === null || value === "date") return "asc";
  if (value === "-date") return "desc";
  throw invalid([{ path: "_sort", message: "date (oldest first) or -date (newest first)" }]);
}

function resolution(value: string | null): boolean {
  if (value === null) return false;
  if (value === "hour") return true;
  throw invalid([{ path: "resolution", message: "hour (hourly summaries of minute-level series)" }]);
}

function cursor(value: string | null): string | undefined {
  if (value === null) return undefined;
  if (value.length === 0 || value.length > 300) throw invalid([{ path: "_cursor", message: "use the next link as given" }]);
  return value;
}

function invalid(errors: FieldError[]): DomainError {
  const names = errors.map((error) => error.path).join(", ");
  return new DomainError("VALIDATION_FAILED", `The search parameters are not valid: ${names}.`, { errors });
}
