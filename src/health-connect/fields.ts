/**
 * Reading decoded Avro records (plain objects shaped like the reader schemas) defensively: the
 * decoder guarantees the shape of well-formed files, but a record is still checked field by field
 * so that one bad record is rejected with a reason naming the field (never its value, which is
 * health data) instead of failing a whole upload.
 */
export class RecordRejection extends Error {
  override readonly name = "RecordRejection";
}

export type DecodedRecord = Readonly<Record<string, unknown>>;

/** 9999-12-30T00:00:00Z: the latest instant whose local date stays a four-digit year (offsets reach ±18 h). */
export const MAX_INSTANT_MS = 253_402_128_000_000;

export function reject(reason: string): never {
  throw new RecordRejection(reason);
}

export function asRecord(value: unknown, path: string): DecodedRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value)) reject(`${path} is not a record`);
  return value as DecodedRecord;
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint" && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value);
  }
  return undefined;
}

export function readNumber(record: DecodedRecord, field: string, path = field): number {
  const value = asNumber(record[field]);
  if (value === undefined) reject(`${path} is missing or not a number`);
  if (!Number.isFinite(value)) reject(`${path} is not a finite number`);
  return value;
}

/** A nullable field (`["null", "double"]` in the schema): `null` when absent. */
export function readOptionalNumber(record: DecodedRecord, field: string, path = field): number | null {
  const raw = record[field];
  return raw === null || raw === undefined ? null : readNumber(record, field, path);
}

/** Epoch milliseconds: an integer between 1970 and 9999. */
export function readInstant(record: DecodedRecord, field: string, path = field): number {
  const value = readNumber(record, field, path);
  if (!Number.isInteger(value) || value < 0 || value > MAX_INSTANT_MS) reject(`${path} is not an instant between 1970 and 9999`);
  return value;
}

/** A required identifier: non-empty and at most `max` characters (never truncated: it is a key). */
export function readString(record: DecodedRecord, field: string, max: number, path = field): string {
  const value = record[field];
  if (typeof value !== "string" || value.length === 0) reject(`${path} is missing or empty`);
  if (value.length > max) reject(`${path} is longer than ${max} characters`);
  return value;
}

/** Free text (titles, notes, device names): blank is `null`, overlong is cut to `max` characters. */
export function readOptionalText(record: DecodedRecord, field: string, max: number): string | null {
  const value = record[field];
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed.length === 0 ? null : truncate(trimmed, max);
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair.
  const cut = text.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

export function readArray(record: DecodedRecord, field: string): readonly unknown[] {
  const value = record[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) reject(`${field} is not an array`);
  return value;
}

/** An Avro enum, decoded to its symbol. */
export function readSymbol(record: DecodedRecord, field: string, path = field): string {
  const value = record[field];
  if (typeof value !== "string") reject(`${path} is missing`);
  return value;
}
