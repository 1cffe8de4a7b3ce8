import { env } from "cloudflare:workers";
import { type AvroSchema, encodeDatum, parseSchema, writeContainer } from "../../../src/avro";
import { readerSchemaFor } from "../../../src/health-connect/record-types";

/**
 * Avro files for upload tests: the synthetic Health Connect samples, generated heart-rate exports
 * of any size, and hand-framed containers for the hostile cases (a wrong codec, a lying block
 * count, a broken sync marker) that a well-behaved writer cannot produce.
 */
export const SAMPLES = {
  ActiveCaloriesBurned: "ActiveCaloriesBurnedRecord_1760000000000.avro",
  BloodGlucose: "BloodGlucoseRecord_1760000000000.avro",
  HeartRate: "HeartRateRecord_1760000000000.avro",
  HeartRateVariabilityRmssd: "HeartRateVariabilityRmssdRecord_1760000000000.avro",
  SleepSession: "SleepSessionRecord_1760000000000.avro",
  Steps: "StepsRecord_1760000000000.avro",
} as const;

export function sampleBytes(name: string): Uint8Array {
  const base64 = env.TEST_HEALTH_CONNECT_SAMPLES[name];
  if (base64 === undefined) throw new Error(`no sample ${name}`);
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export const heartRateSchema: AvroSchema = parseSchema(readerSchemaFor("HeartRate"));
export const HEART_RATE_SCHEMA_JSON = JSON.stringify(readerSchemaFor("HeartRate"));

const T0 = Date.UTC(2026, 9, 1, 12, 0, 0);

export interface HeartRateOptions {
  /** Samples per record, one a second (default 1). */
  samples?: number;
  /** Distinguishes otherwise identical files (default "test"). */
  prefix?: string;
  /** Filler in `metadata.clientRecordId`, to make big files of few records. */
  padding?: number;
  bpm?: number;
  /** `metadata.lastModifiedTimeEpochMillis`: a higher one is a newer version of the record. */
  version?: number;
}

/** Heart-rate record `i`: `samples` samples one second apart, ten minutes after record i-1. */
export function heartRateRecord(i: number, options: HeartRateOptions = {}): Record<string, unknown> {
  const samples = options.samples ?? 1;
  const start = T0 + i * 600_000;
  return {
    metadata: {
      id: `${options.prefix ?? "test"}-hr-${i}`,
      dataOriginPackageName: "com.example.watch",
      lastModifiedTimeEpochMillis: options.version ?? T0,
      clientRecordId: options.padding ? "x".repeat(options.padding) : null,
      clientRecordVersion: 0,
      device: null,
    },
    startTimeEpochMillis: start,
    endTimeEpochMillis: start + samples * 1000,
    startZoneOffsetId: "Z",
    endZoneOffsetId: "Z",
    appRecordFetchTimeEpochMillis: T0,
    samples: Array.from({ length: samples }, (_, s) => ({
      timeEpochMillis: start + s * 1000,
      beatsPerMinute: options.bpm ?? 60 + (s % 40),
    })),
  };
}

export function heartRateFile(
  count: number,
  options: HeartRateOptions & { blockRecords?: number; codec?: "null" | "deflate"; first?: number } = {},
): Promise<Uint8Array> {
  const records = Array.from({ length: count }, (_, i) => heartRateRecord((options.first ?? 0) + i, options));
  return writeContainer(heartRateSchema, records, {
    blockRecords: options.blockRecords ?? 1000,
    codec: options.codec ?? "null",
    schemaJson: HEART_RATE_SCHEMA_JSON,
  });
}

export function encodeHeartRate(record: Record<string, unknown>): Uint8Array {
  return encodeDatum(heartRateSchema, record);
}

function zigzag(value: number): number[] {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

export interface RawBlock {
  count: number;
  data: Uint8Array;
  /** Replaces the trailing sync marker (default: the file's). */
  sync?: Uint8Array;
  /** Declared byte size, when it should lie (default: data length). */
  size?: number;
}

/** A container framed by hand: any codec name, any block count, any sync marker. */
export function rawContainer(options: { schemaJson?: string; codec?: string; blocks: RawBlock[] }): Uint8Array {
  const text = new TextEncoder();
  const sync = new Uint8Array(16).fill(7);
  const bytes: number[] = [0x4f, 0x62, 0x6a, 0x01];
  const entries: [string, string][] = [
    ["avro.schema", options.schemaJson ?? HEART_RATE_SCHEMA_JSON],
    ["avro.codec", options.codec ?? "null"],
  ];
  bytes.push(...zigzag(entries.length));
  for (const [key, value] of entries) {
    for (const part of [text.encode(key), text.encode(value)]) {
      bytes.push(...zigzag(part.length));
      for (const byte of part) bytes.push(byte);
    }
  }
  bytes.push(0, ...sync);
  for (const block of options.blocks) {
    bytes.push(...zigzag(block.count), ...zigzag(block.size ?? block.data.length));
    for (const byte of block.data) bytes.push(byte);
    bytes.push(...(block.sync ?? sync));
  }
  return Uint8Array.from(bytes);
}

/** Raw DEFLATE (RFC 1951), as Avro's deflate codec stores blocks. */
export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
