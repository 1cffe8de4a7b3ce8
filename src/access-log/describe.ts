import type { ActorRole, AuditResult, ChainedAuditEvent } from "../audit/event";
import { type AuditResource, parseAuditResource } from "../audit/resource";
import { isMetricCode, METRICS } from "../observations/metrics";

/**
 * The person's access log in words: who acted (a name and role, not an id), what they did to which
 * data over which period, in one plain sentence. Dates are written in UTC, as the events record them.
 */
export const WHO_KINDS = [
  "you",
  "grantee",
  "analyst",
  "ingestion",
  "provider",
  "auditor",
  "admin",
  "system",
  "deleted-account",
  "other",
] as const;
export type WhoKind = (typeof WHO_KINDS)[number];

export interface Who {
  kind: WhoKind;
  id?: string;
  displayName?: string;
  role: ActorRole;
  label: string;
}

/** What D1 knows of an actor that is a user: their display name, or that the account is gone. */
export type ActorName = { displayName: string } | { deleted: true };

const INGESTION_ACTOR = "system:upload.ingest";
const PROVIDER_ACTOR = /^system:provider\./;

export function describeWho(event: ChainedAuditEvent, me: string, names: ReadonlyMap<string, ActorName>): Who {
  const { actor, role } = event;
  // The question came from the person, but the data was read, and answered, by the analyst in the enclave.
  if (event.action === "ai.query" || event.action === "ai.answer")
    return { kind: "analyst", role, label: "analyst in the enclave" };
  if (actor === me) return { kind: "you", id: actor, role, label: "you" };
  if (role === "system") {
    if (actor === INGESTION_ACTOR) return { kind: "ingestion", role, label: "Pulse (ingestion)" };
    if (PROVIDER_ACTOR.test(actor)) return { kind: "provider", role, label: "Pulse (provider sync)" };
    return { kind: "system", role, label: "Pulse (automated)" };
  }
  const name = names.get(actor);
  if (name === undefined) return { kind: "other", role, label: `someone acting as ${role}` };
  if ("deleted" in name) return { kind: "deleted-account", id: actor, role, label: "a deleted account" };
  // Staff who audit or administer the service are named by their role only.
  if (role === "auditor") return { kind: "auditor", id: actor, role, label: "an auditor" };
  if (role === "admin") return { kind: "admin", id: actor, role, label: "an administrator" };
  const { displayName } = name;
  const kind: WhoKind = role === "clinician" || role === "researcher" ? "grantee" : "other";
  return { kind, id: actor, displayName, role, label: `${displayName} (${role})` };
}

interface Verb {
  past: string;
  base: string;
}

const READ: Verb = { past: "Read", base: "read" };

export function describeEvent(event: ChainedAuditEvent, resource: AuditResource = parseAuditResource(event.resource)): string {
  const [verb, object] = sentence(event.action, resource);
  return withResult(verb, object, event.result);
}

function sentence(action: string, resource: AuditResource): [Verb, string] {
  const period = periodText(resource);
  switch (action) {
    case "observations.read":
      if (resource.kind === "latest") return [READ, `your latest ${things(resource)}`];
      return [READ, `${things(resource)}${period}`];
    case "observations.write":
      return [{ past: "Stored", base: "store" }, `${things(resource)}${period}`];
    case "observations.delete":
      return [{ past: "Deleted", base: "delete" }, `everything stored from ${sourceText(resource.id)}`];
    case "sleep.read":
      return [READ, `sleep sessions${period}`];
    case "workouts.read":
      return [READ, `workouts${period}`];
    case "devices.read":
      return [READ, `the list of devices and apps your data came from${period}`];
    case "summary.read":
      return [READ, `the daily summary${resource.date === null ? "" : ` for ${dateText(resource.date)}`}`];
    case "narratives.read":
      return [READ, narrativeText(resource)];
    case "narratives.write":
      return [{ past: "Prepared", base: "prepare" }, narrativeText(resource)];
    case "ai.query":
      // A summary question reads the narrative of a day or week (the event names its first date).
      if (resource.date !== null)
        return [{ past: "Analysed", base: "analyse" }, `${narrativeText(resource)} to answer your question`];
      // A question naming no measure ("do I have diabetes?") reads nothing: "all your health data"
      // would tell the person the opposite of what happened.
      if (resource.metrics.length === 0 && resource.categories.length === 0)
        return [{ past: "Sent", base: "send" }, "the enclave none of your data for your question: it named no measure"];
      return [{ past: "Analysed", base: "analyse" }, `${things(resource)}${period} to answer your question`];
    // Written after the `ai.query` read of the same request (same request id), once the Worker has
    // verified the enclave's signed receipt: the hash lets the person match the answer they kept.
    case "ai.answer":
      return [
        { past: "Answered", base: "answer" },
        resource.id === null
          ? "your question inside the attested enclave"
          : `your question inside the attested enclave, with a signed receipt (SHA-256 ${resource.id.slice(0, 16)}…)`,
      ];
    case "vault.read":
      return [READ, resource.id === null ? "your encrypted vault's list" : `encrypted vault item "${resource.id}"`];
    case "vault.write":
      return [{ past: "Saved", base: "save" }, `encrypted vault item "${resource.id ?? "?"}"`];
    case "vault.delete":
      return [{ past: "Deleted", base: "delete" }, `encrypted vault item "${resource.id ?? "?"}"`];
    case "audit.read":
      return [{ past: "Reviewed", base: "review" }, `the record of access to your data${period}`];
    // Sharing, uploads and exports: the events the patient most needs to read plainly (who was
    // given access, who lost it, what left Pulse), not the generic wording below.
    case "grant.redeem":
      return [{ past: "Redeemed", base: "redeem" }, `your invitation and was given access${idText("grant", resource.id)}`];
    case "grant.revoke":
      return [{ past: "Revoked", base: "revoke" }, `a grant: its holder's access ended${idText("grant", resource.id)}`];
    case "upload.create":
      return [{ past: "Uploaded", base: "upload" }, `a file${idText("upload", resource.id)}`];
    case "export.read": {
      const [exportId = null, file] = (resource.id ?? "").split(/:(.*)/s, 2);
      // The streamed FHIR export names what it read by metric and period, like a read does.
      if (resource.kind === "fhir_export") {
        const what = file === "Device" ? "the devices that recorded your data" : file ? things(resource) : "your data";
        return [{ past: "Exported", base: "export" }, `${what} as FHIR${period}${idText("export", exportId || null)}`];
      }
      const what = file ? file : "your data";
      return [{ past: "Exported", base: "export" }, `${what}${idText("export", exportId || null)}`];
    }
    case "export.download":
      return [{ past: "Downloaded", base: "download" }, `an export archive${idText("export", resource.id)}`];
    case "upload.purge_raw":
      return [
        { past: "Deleted", base: "delete" },
        `the original file of an upload after its retention period; its data is kept${idText("upload", resource.id)}`,
      ];
    default:
      return [{ past: "Performed", base: "perform" }, `${action} on ${resource.kind}`];
  }
}

function idText(kind: string, id: string | null): string {
  return id === null ? "" : ` (${kind} ${id})`;
}

function withResult(verb: Verb, object: string, result: AuditResult): string {
  if (result === "success") return `${verb.past} ${object}`;
  return `Tried to ${verb.base} ${object}; ${result === "denied" ? "refused" : "it failed"}`;
}

const SESSION_NAMES: Record<string, string> = { sleep: "sleep sessions", workout: "workouts", workouts: "workouts" };
const MAX_NAMED = 6;

/** "heart rate and HRV (RMSSD)", "your vitals and activity data", "all your health data". */
export function things(resource: AuditResource): string {
  if (resource.metrics.length > 0) {
    const names = resource.metrics.map(metricName);
    if (names.length > MAX_NAMED) return `${names.slice(0, MAX_NAMED - 1).join(", ")} and ${names.length - MAX_NAMED + 1} more`;
    return joined(names);
  }
  if (resource.categories.length > 0) return `your ${joined(resource.categories)} data`;
  return "all your health data";
}

function metricName(code: string): string {
  const session = SESSION_NAMES[code];
  if (session !== undefined) return session;
  if (!isMetricCode(code)) return code;
  const display: string = METRICS[code].display;
  // "Heart rate" reads as "heart rate" mid-sentence; "HRV (RMSSD)" and "VO2 max" keep their capitals.
  return /^[A-Z][a-z]/.test(display) ? display[0]?.toLowerCase() + display.slice(1) : display;
}

function joined(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function sourceText(id: string | null): string {
  if (id === null) return "one source";
  const split = id.indexOf(":");
  return split < 0 ? id : `${id.slice(split + 1)} (${id.slice(0, split)})`;
}

const MINUTE_MS = 60_000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** " for 1 Nov 2026 – 8 Nov 2026", " since …", " up to …", or "" for no period. */
function periodText(resource: AuditResource): string {
  const period = resource.period;
  if (period === null) return "";
  const { since, until } = period;
  const dayOnly = [since, until].every((end) => end === null || end.slice(10) === "T00:00:00.000Z");
  const time = (iso: string) => iso.slice(11, 16);
  const text = (iso: string) => (dayOnly ? dateText(iso.slice(0, 10)) : `${dateText(iso.slice(0, 10))} ${time(iso)} UTC`);
  if (since !== null && until !== null) {
    // A single instant (a write of one sample spans one millisecond) or one day's hours read shorter.
    if (Date.parse(until) - Date.parse(since) < MINUTE_MS) return ` at ${dateText(since.slice(0, 10))} ${time(since)} UTC`;
    if (!dayOnly && since.slice(0, 10) === until.slice(0, 10)) {
      return ` for ${dateText(since.slice(0, 10))} ${time(since)} – ${time(until)} UTC`;
    }
    return ` for ${text(since)} – ${text(until)}`;
  }
  if (since !== null) return ` since ${text(since)}`;
  if (until !== null) return ` up to ${text(until)}`;
  return "";
}

/**
 * "the narrative of 2 Nov 2026", "the weekly narrative from 2 Nov 2026", with "(your vitals and
 * sleep data)" when a grant limited it to some categories.
 */
function narrativeText(resource: AuditResource): string {
  const period = resource.period;
  const span = period?.since && period.until ? Date.parse(period.until) - Date.parse(period.since) : 0;
  // A day is 23-25 hours; a week about 168 (a grant's period may cut either short).
  const weekly = span > 2 * 86_400_000;
  const date = resource.date === null ? "" : weekly ? ` from ${dateText(resource.date)}` : ` of ${dateText(resource.date)}`;
  const limited = resource.categories.length > 0 ? ` (your ${joined(resource.categories)} data)` : "";
  return `the ${weekly ? "weekly " : ""}narrative${date}${limited}`;
}

function dateText(date: string): string {
  const [year, month, day] = date.split("-").map(Number);
  if (year === undefined || month === undefined || day === undefined) return date;
  return `${day} ${MONTHS[month - 1] ?? "?"} ${year}`;
}
