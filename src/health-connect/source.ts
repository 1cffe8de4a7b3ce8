import { asRecord, type DecodedRecord, readNumber, readOptionalText, readString, reject, truncate } from "./fields";

/**
 * Who produced a record, from the `AvroMetadata` every schema starts with. The HealthStore keys a
 * record by (source kind, app, record id) and keeps only its highest version (DESIGN §5): Health
 * Connect's `metadata.id` is stable across edits and `lastModifiedTimeEpochMillis` grows with
 * each edit, so a re-export of an edited record replaces the older one and a re-sent file changes
 * nothing.
 */
export interface RecordSource {
  sourceKind: "upload";
  /** `metadata.dataOriginPackageName`: the app that wrote the record to Health Connect. */
  sourceApp: string;
  /** `metadata.id`. */
  sourceRecordId: string;
  /** `metadata.lastModifiedTimeEpochMillis`. */
  version: number;
  /** "manufacturer model", either part alone, or `null`. */
  device: string | null;
}

const MAX_KEY_LENGTH = 256;

export function readSource(record: DecodedRecord): RecordSource {
  const metadata = asRecord(record.metadata, "metadata");
  const sourceRecordId = readString(metadata, "id", MAX_KEY_LENGTH, "metadata.id");
  const sourceApp = readString(metadata, "dataOriginPackageName", MAX_KEY_LENGTH, "metadata.dataOriginPackageName");
  const version = readNumber(metadata, "lastModifiedTimeEpochMillis", "metadata.lastModifiedTimeEpochMillis");
  if (!Number.isSafeInteger(version) || version < 0) reject("metadata.lastModifiedTimeEpochMillis is not a non-negative integer");
  return { sourceKind: "upload", sourceApp, sourceRecordId, version, device: deviceName(metadata.device) };
}

function deviceName(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const device = value as DecodedRecord;
  const parts = [readOptionalText(device, "manufacturer", MAX_KEY_LENGTH), readOptionalText(device, "model", MAX_KEY_LENGTH)];
  const name = parts.filter((part) => part !== null).join(" ");
  return name.length === 0 ? null : truncate(name, MAX_KEY_LENGTH);
}

/** Best effort, for the rejection report of a record whose metadata may itself be broken. */
export function recordIdOf(record: unknown): string | null {
  if (typeof record !== "object" || record === null) return null;
  const metadata = (record as DecodedRecord).metadata;
  if (typeof metadata !== "object" || metadata === null) return null;
  const id = (metadata as DecodedRecord).id;
  return typeof id === "string" && id.length > 0 ? truncate(id, MAX_KEY_LENGTH) : null;
}
