import { asRecord, type DecodedRecord, reject } from "../../health-connect/fields";

/**
 * Reading provider JSON defensively, with the Health Connect readers (src/health-connect/fields.ts)
 * plus the optional shapes JSON APIs use: absent, `null`, or present.
 */
export { asRecord, type DecodedRecord, readArray, readNumber, readOptionalNumber, reject } from "../../health-connect/fields";

/** A nested object, or `null` when absent or `null`. */
export function optionalRecord(record: DecodedRecord, field: string, path = field): DecodedRecord | null {
  const value = record[field];
  return value === null || value === undefined ? null : asRecord(value, path);
}

/** A string, or `null` when absent, `null` or blank. */
export function optionalString(record: DecodedRecord, field: string, path = field): string | null {
  const value = record[field];
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") reject(`${path} is not a string`);
  return value.trim().length === 0 ? null : value;
}

/** A number that JSON may carry as a string (proto3 JSON writes int64 as `"72"`). */
export function numberOrNumericString(value: unknown, path: string): number {
  const number = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) reject(`${path} is missing or not a number`);
  return number;
}

/** `payload[field]` when the payload is an object, else `undefined` (which `mapEach` reports). */
export function listIn(payload: unknown, field: string): unknown {
  return typeof payload === "object" && payload !== null && !Array.isArray(payload)
    ? (payload as DecodedRecord)[field]
    : undefined;
}
