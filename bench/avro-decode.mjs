#!/usr/bin/env node
// Avro decode throughput (question (a) of docs/benchmarks.md; DESIGN §6 asks for it against avsc):
// Pulse's eval-free reader (src/avro, bundled with esbuild the way wrangler bundles the Worker)
// against avsc in the same Node process, on the same generated file: a week of heart rate (a sample
// every 6 s in records of 10 minutes: ~1,000 records, ~100k samples), once with the null codec and
// once with deflate. Both sides decode the whole container from memory through their own
// container reader (header, blocks, sync markers, inflate) into plain values. Target: Pulse >=
// 0.5x avsc. See docs/avro.md.
//
// Standalone: `node bench/avro-decode.mjs [--rounds 7] [--json]`; run.mjs can import
// `benchAvroDecode()` and print `formatAvroDecode()`.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadPulseModules } from "./pulse-modules.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const avro = require("avsc");

export const AVRO_DECODE_TARGET = 0.5;
const DAYS = 7;
const RECORD_MINUTES = 10;
const SAMPLE_SECONDS = 6;

function heartRateRecords(count) {
  const start = Date.UTC(2025, 9, 1);
  const perRecord = (RECORD_MINUTES * 60) / SAMPLE_SECONDS;
  const records = [];
  for (let i = 0; i < count; i++) {
    const begin = start + i * RECORD_MINUTES * 60_000;
    const samples = [];
    for (let s = 0; s < perRecord; s++) {
      samples.push({ timeEpochMillis: begin + s * SAMPLE_SECONDS * 1000, beatsPerMinute: 55 + ((i * 7 + s * 13) % 90) });
    }
    records.push({
      metadata: {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        dataOriginPackageName: "com.example.watch",
        lastModifiedTimeEpochMillis: begin + RECORD_MINUTES * 60_000,
        clientRecordId: null,
        clientRecordVersion: 0,
        device: { manufacturer: "Example", model: "Watch 2", type: "WATCH" },
      },
      startTimeEpochMillis: begin,
      endTimeEpochMillis: begin + RECORD_MINUTES * 60_000,
      startZoneOffsetId: "+02:00",
      endZoneOffsetId: "+02:00",
      appRecordFetchTimeEpochMillis: start + DAYS * 86_400_000,
      samples,
    });
  }
  return records;
}

async function decodePulse(pulse, bytes, reader) {
  const container = await pulse.openContainer(new Blob([bytes]).stream());
  const decoder = pulse.createDecoder(container.header.schema, reader);
  let records = 0;
  let samples = 0;
  for await (const block of container.blocks(decoder)) {
    records += block.records.length;
    for (const record of block.records) samples += record.samples.length;
  }
  return { records, samples };
}

function decodeAvsc(bytes) {
  return new Promise((resolvePromise, reject) => {
    let records = 0;
    let samples = 0;
    Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)])
      .pipe(new avro.streams.BlockDecoder())
      .on("data", (record) => {
        records++;
        samples += record.samples.length;
      })
      .on("end", () => resolvePromise({ records, samples }))
      .on("error", reject);
  });
}

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Alternates the two decoders round by round so drift on shared cores hits both alike. */
async function measure(bytes, runs, decode) {
  const times = { pulse: [], avsc: [] };
  let counts;
  for (let round = 0; round < runs; round++) {
    for (const name of round % 2 === 0 ? ["pulse", "avsc"] : ["avsc", "pulse"]) {
      const started = performance.now();
      const result = await decode[name](bytes);
      times[name].push(performance.now() - started);
      if (counts && (counts.records !== result.records || counts.samples !== result.samples)) {
        throw new Error(`${name} decoded ${JSON.stringify(result)}, expected ${JSON.stringify(counts)}`);
      }
      counts = result;
    }
  }
  const figure = (ms) => ({
    ms,
    recordsPerSecond: counts.records / (ms / 1000),
    samplesPerSecond: counts.samples / (ms / 1000),
    megabytesPerSecond: bytes.length / 1e6 / (ms / 1000),
  });
  const pulse = figure(median(times.pulse));
  const avsc = figure(median(times.avsc));
  return { bytes: bytes.length, ...counts, pulse, avsc, ratio: avsc.ms / pulse.ms };
}

export async function benchAvroDecode({ rounds = 7 } = {}) {
  const pulse = await loadPulseModules();
  const schemaPath = join(root, "../shared/data/health-connect/schemas/AvroHeartRateRecord.avsc");
  const reader = pulse.parseSchema(readFileSync(schemaPath, "utf8"));
  const records = heartRateRecords((DAYS * 24 * 60) / RECORD_MINUTES);
  const decode = { pulse: (bytes) => decodePulse(pulse, bytes, reader), avsc: decodeAvsc };
  const results = {};
  for (const codec of ["null", "deflate"]) {
    const bytes = await pulse.writeContainer(reader, records, { codec, blockRecords: 100 });
    await measure(bytes, 2, decode);
    results[codec] = await measure(bytes, rounds, decode);
  }
  return results;
}

export function formatAvroDecode(results) {
  const lines = ["Avro decode (heart rate, 7 days): Pulse reader vs avsc, same file, same process"];
  for (const [codec, r] of Object.entries(results)) {
    const row = (name, f) =>
      `  ${name.padEnd(6)} ${f.ms.toFixed(1).padStart(7)} ms  ${Math.round(f.recordsPerSecond).toLocaleString("en").padStart(10)} records/s  ${Math.round(f.samplesPerSecond).toLocaleString("en").padStart(12)} samples/s  ${f.megabytesPerSecond.toFixed(1).padStart(6)} MB/s`;
    lines.push(`codec ${codec}: ${(r.bytes / 1e6).toFixed(2)} MB, ${r.records} records, ${r.samples} samples`);
    lines.push(row("pulse", r.pulse), row("avsc", r.avsc));
    const verdict = r.ratio >= AVRO_DECODE_TARGET ? "meets" : "MISSES";
    lines.push(`  ratio ${r.ratio.toFixed(2)}x avsc (${verdict} the ${AVRO_DECODE_TARGET}x target)`);
  }
  return lines.join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { rounds: { type: "string", default: "7" }, json: { type: "boolean", default: false } },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error("--rounds must be a positive integer");
    process.exit(2);
  }
  const results = await benchAvroDecode({ rounds });
  console.log(values.json ? JSON.stringify(results, null, 2) : formatAvroDecode(results));
}
