import { resolve } from "node:path";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { observationInputSchema } from "../../durable-objects/health-store/schema";
import { sleepSessionInputSchema } from "../../durable-objects/health-store/session-schema";
import { mapRecords } from "../../src/health-connect/map-record";
import type { MappedRecords } from "../../src/health-connect/mapped";
import { parseExportFileName } from "../../src/health-connect/record-types";

// The synthetic samples of the contract (../shared/data/health-connect/samples), decoded by avsc
// (the reference implementation, Node only) and mapped by Pulse's mapper.
const samplesDir = resolve(import.meta.dirname, "../../../shared/data/health-connect/samples");

async function decode(fileName: string): Promise<unknown[]> {
  const records: unknown[] = [];
  await new Promise<void>((done, fail) => {
    avro
      .createFileDecoder(resolve(samplesDir, fileName))
      .on("data", (record: unknown) => records.push(record))
      .on("end", () => done())
      .on("error", fail);
  });
  return records;
}

async function mapSample(fileName: string): Promise<MappedRecords> {
  const parsed = parseExportFileName(fileName);
  if (parsed === null) throw new Error(`not an export file name: ${fileName}`);
  const mapped = mapRecords(parsed.recordType, await decode(fileName));
  // Whatever the mapper emits must be accepted by the HealthStore as is.
  for (const obs of mapped.observations) expect(observationInputSchema.safeParse(obs).success).toBe(true);
  for (const night of mapped.sleepSessions) expect(sleepSessionInputSchema.safeParse(night).success).toBe(true);
  return mapped;
}

const values = (mapped: MappedRecords) => mapped.observations.map((obs) => obs.value);

describe("Health Connect samples", () => {
  it("maps the active calories day with its interval and New York offset", async () => {
    const mapped = await mapSample("ActiveCaloriesBurnedRecord_1760000000000.avro");
    expect(mapped.rejected).toEqual([]);
    expect(mapped.observations).toEqual([
      {
        metric: "active_energy",
        start: 1759968000000,
        end: 1760054399999,
        value: 312.5,
        unit: "kcal",
        sourceKind: "upload",
        sourceApp: "com.example.ring",
        device: null,
        sourceRecordId: "00000000-0000-4000-8000-000000000400",
        zoneOffsetSeconds: -18000,
        // 2025-10-09T00:00Z is 19:00 on the 8th in UTC-5.
        localDate: "2025-10-08",
        flagged: false,
        version: 1759968400000,
      },
    ]);
  });

  it("maps twelve CGM readings in mg/dL, in UTC", async () => {
    const mapped = await mapSample("BloodGlucoseRecord_1760000000000.avro");
    expect(mapped.observations).toHaveLength(12);
    expect(values(mapped)).toEqual([95, 102, 110, 128, 150, 165, 142, 120, 99, 88, 72, 65]);
    expect(
      new Set(mapped.observations.map((obs) => `${obs.metric} ${obs.unit} ${obs.zoneOffsetSeconds} ${obs.localDate}`)),
    ).toEqual(new Set(["blood_glucose mg/dL 0 2025-10-09"]));
    expect(mapped.observations.filter((obs) => obs.flagged)).toEqual([]);
    expect(mapped.observations[11]).toMatchObject({ start: 1759977900000, end: 1759977900000, version: 1759968011000 });
  });

  it("maps three heart-rate series into fifteen samples", async () => {
    const mapped = await mapSample("HeartRateRecord_1760000000000.avro");
    expect(mapped.observations).toHaveLength(15);
    expect(values(mapped)).toEqual([60, 61, 62, 63, 64, 70, 71, 72, 73, 74, 80, 81, 82, 83, 84]);
    expect(mapped.observations.map((obs) => obs.start).slice(0, 3)).toEqual([1759968000000, 1759968030000, 1759968060000]);
    expect(new Set(mapped.observations.map((obs) => obs.sourceRecordId))).toEqual(
      new Set([
        "00000000-0000-4000-8000-000000000100",
        "00000000-0000-4000-8000-000000000101",
        "00000000-0000-4000-8000-000000000102",
      ]),
    );
    // Each series' last sample falls exactly on its record's end: inside the span, not flagged.
    expect(
      mapped.observations.every((obs) => obs.metric === "heart_rate" && obs.localDate === "2025-10-08" && !obs.flagged),
    ).toBe(true);
  });

  it("maps HRV as RMSSD, never SDNN", async () => {
    const mapped = await mapSample("HeartRateVariabilityRmssdRecord_1760000000000.avro");
    expect(values(mapped)).toEqual([30, 32.5, 35, 37.5, 40, 42.5]);
    expect(new Set(mapped.observations.map((obs) => `${obs.metric} ${obs.unit}`))).toEqual(new Set(["hrv_rmssd ms"]));
  });

  it("maps the night with its five stages, dated by its end", async () => {
    const mapped = await mapSample("SleepSessionRecord_1760000000000.avro");
    expect(mapped.observations).toEqual([]);
    expect(mapped.sleepSessions).toHaveLength(1);
    const [night] = mapped.sleepSessions;
    expect(night).toMatchObject({
      sourceApp: "com.example.sleep",
      sourceRecordId: "00000000-0000-4000-8000-000000000200",
      start: 1759939200000,
      end: 1759964400000,
      zoneOffsetSeconds: -18000,
      localDate: "2025-10-08",
      flagged: false,
      title: null,
      notes: null,
    });
    expect(night?.stages.map((stage) => stage.stage)).toEqual(["light", "deep", "rem", "awake", "light"]);
    expect(night?.stages[3]).toEqual({ stage: "awake", start: 1759951800000, end: 1759952400000 });
  });

  it("maps the step count of the day", async () => {
    const mapped = await mapSample("StepsRecord_1760000000000.avro");
    expect(mapped.observations).toHaveLength(1);
    expect(mapped.observations[0]).toMatchObject({
      metric: "steps",
      value: 8421,
      unit: "count",
      start: 1759968000000,
      end: 1760054399999,
    });
  });
});
