// Generated Health Connect exports for the ingest and query benches: what the Android exporter
// writes for a person wearing a watch and a CGM, one Avro object container file per record type,
// deflate codec, named `<Type>Record_<fetchEpochMillis>.avro`. Values follow a day (lower heart
// rate at night, meals in the glucose trace, no steps while asleep) from a seeded generator, so
// every run sends the same bytes, and every value is inside its plausible range (nothing flagged,
// so every sample shows in hourly buckets).
import { loadPulseModules } from "./pulse-modules.mjs";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Java's DataFileWriter (the exporter's) starts a new block after ~64,000 bytes of records. */
const BLOCK_BYTES = 64_000;
/** Europe/Paris in October: the offset the exporter writes and the local day the mapping uses. */
const ZONE = "+02:00";
const ZONE_MS = 2 * HOUR_MS;

/** UTC midnight, Monday 2026-10-05: the first instant of every generated export. */
export const EXPORT_START = Date.UTC(2026, 9, 5);

/** A small seeded generator (mulberry32): the same seed gives the same exports and the same pacing. */
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuid(next) {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = "4";
  hex[16] = "89ab"[Math.floor(next() * 4)];
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const localHour = (t) => ((((t + ZONE_MS) % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;

function metadata(next, app, device, lastModified) {
  return {
    id: uuid(next),
    dataOriginPackageName: app,
    lastModifiedTimeEpochMillis: lastModified,
    clientRecordId: null,
    clientRecordVersion: 0,
    device,
  };
}

const WATCH = { manufacturer: "Google", model: "Pixel Watch 3", type: "WATCH" };
const PHONE = { manufacturer: "Google", model: "Pixel 9", type: "PHONE" };
const CGM = { manufacturer: "Dexcom", model: "G7", type: null };
const FITNESS = "com.google.android.apps.fitness";

/** Beats per minute at instant t: ~55 asleep, 65-90 awake, a run on even days at 18:00 local. */
function heartRateAt(t, next) {
  const hour = localHour(t);
  const day = Math.floor((t + ZONE_MS) / DAY_MS);
  let bpm = hour < 6.5 || hour >= 23 ? 55 : 72 + 10 * Math.sin(((hour - 8) / 16) * Math.PI);
  if (day % 2 === 0 && hour >= 18 && hour < 18.75) bpm = 145 + 15 * Math.sin(((hour - 18) / 0.75) * Math.PI);
  return Math.round(bpm + (next() - 0.5) * 8);
}

/** Heart rate in records of `recordMinutes`, one sample every `sampleSeconds`. */
export function heartRateRecords({ days, recordMinutes = 10, sampleSeconds = 6, start = EXPORT_START, seed = 1 }) {
  const next = random(seed);
  const records = [];
  const recordMs = recordMinutes * 60_000;
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  for (let begin = start; begin < start + days * DAY_MS; begin += recordMs) {
    const samples = [];
    for (let t = begin; t < begin + recordMs; t += sampleSeconds * 1000) {
      samples.push({ timeEpochMillis: t, beatsPerMinute: heartRateAt(t, next) });
    }
    records.push({
      metadata: metadata(next, FITNESS, WATCH, begin + recordMs + Math.floor(next() * 60_000)),
      startTimeEpochMillis: begin,
      endTimeEpochMillis: begin + recordMs,
      startZoneOffsetId: ZONE,
      endZoneOffsetId: ZONE,
      appRecordFetchTimeEpochMillis: fetchedAt,
      samples,
    });
  }
  return records;
}

export function stepsRecords({ days, start = EXPORT_START, seed = 2 }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  for (let begin = start; begin < start + days * DAY_MS; begin += HOUR_MS) {
    const hour = localHour(begin);
    const asleep = hour < 7 || hour >= 23;
    const walk = hour === 8 || hour === 12 || hour === 18;
    const count = asleep ? Math.floor(next() * 20) : Math.floor((walk ? 3_000 : 250) + next() * (walk ? 3_000 : 900));
    records.push({
      metadata: metadata(next, FITNESS, PHONE, begin + HOUR_MS + 120_000),
      startTimeEpochMillis: begin,
      endTimeEpochMillis: begin + HOUR_MS,
      startZoneOffsetId: ZONE,
      endZoneOffsetId: ZONE,
      count,
      appRecordFetchTimeEpochMillis: fetchedAt,
    });
  }
  return records;
}

/** One resting heart rate per morning (06:30 local), 52-60 bpm. */
export function restingHeartRateRecords({ days, start = EXPORT_START, seed = 6 }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  for (let day = 0; day < days; day++) {
    const time = start + day * DAY_MS + 6.5 * HOUR_MS - ZONE_MS;
    records.push({
      metadata: metadata(next, FITNESS, WATCH, time + 60_000),
      timeEpochMillis: time,
      zoneOffsetId: ZONE,
      beatsPerMinute: 52 + Math.floor(next() * 9),
      appRecordFetchTimeEpochMillis: fetchedAt,
    });
  }
  return records;
}

/** One night per day, ~23:00 to ~07:00 local, in 90-minute cycles of light, deep, light, REM. */
export function sleepRecords({ days, start = EXPORT_START, seed = 3 }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  const minutes = (lo, hi) => Math.round((lo + next() * (hi - lo)) * 60_000);
  for (let day = 0; day < days; day++) {
    const begin = start + day * DAY_MS + 21 * HOUR_MS + minutes(-30, 30); // 23:00 local ± 30 min
    const end = begin + 8 * HOUR_MS + minutes(-45, 30);
    const stages = [];
    let t = begin;
    const push = (stage, length) => {
      const stop = Math.min(end, t + length);
      if (stop > t) stages.push({ startTimeEpochMillis: t, endTimeEpochMillis: stop, stage });
      t = stop;
    };
    push("AWAKE", minutes(5, 15));
    while (t < end) {
      push("LIGHT", minutes(25, 45));
      push("DEEP", minutes(15, 30));
      push("LIGHT", minutes(10, 20));
      push("REM", minutes(15, 30));
      if (next() < 0.4) push("AWAKE", minutes(1, 5));
    }
    records.push({
      metadata: metadata(next, FITNESS, WATCH, end + 600_000),
      title: null,
      notes: null,
      startTimeEpochMillis: begin,
      endTimeEpochMillis: end,
      startZoneOffsetId: ZONE,
      endZoneOffsetId: ZONE,
      durationMillis: end - begin,
      appRecordFetchTimeEpochMillis: fetchedAt,
      stages,
    });
  }
  return records;
}

/** A CGM reading every 5 minutes: ~95 mg/dL fasting, a rise after each meal. */
export function glucoseRecords({ days, start = EXPORT_START, seed = 4 }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  const meals = [7.5, 12.5, 19.5];
  for (let t = start; t < start + days * DAY_MS; t += 5 * 60_000) {
    const hour = localHour(t);
    let level = 95 + (next() - 0.5) * 6;
    for (const meal of meals) {
      const since = hour - meal;
      if (since > 0 && since < 3) level += 55 * Math.sin((since / 3) * Math.PI) * Math.exp(-since / 2);
    }
    records.push({
      metadata: metadata(next, "com.dexcom.g7", CGM, t + 300_000),
      timeEpochMillis: t,
      zoneOffsetId: ZONE,
      levelInMilligramsPerDeciliter: Math.round(level * 10) / 10,
      specimenSource: "INTERSTITIAL_FLUID",
      mealType: "UNKNOWN",
      relationToMeal: "GENERAL",
      appRecordFetchTimeEpochMillis: fetchedAt,
    });
  }
  return records;
}

/** Instant records (one value at `timeEpochMillis`) for the metrics measured once or twice a day. */
function instantRecords({ days, start, seed, app, device, hours, fields }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  for (let day = 0; day < days; day++) {
    for (const hour of hours) {
      const time = start + day * DAY_MS + hour * HOUR_MS - ZONE_MS;
      records.push({
        metadata: metadata(next, app, device, time + 60_000),
        timeEpochMillis: time,
        zoneOffsetId: ZONE,
        ...fields(next, day),
        appRecordFetchTimeEpochMillis: fetchedAt,
      });
    }
  }
  return records;
}

const CUFF = { manufacturer: "Withings", model: "BPM Connect", type: null };
const SCALE = { manufacturer: "Withings", model: "Body+", type: "SCALE" };
const CONNECT = "com.withings.wiscale2";

/** Blood pressure at 07:15 and 21:00 local: around 124/79 mmHg, as a home cuff reads. */
export function bloodPressureRecords({ days, start = EXPORT_START, seed = 7 }) {
  return instantRecords({
    days,
    start,
    seed,
    app: CONNECT,
    device: CUFF,
    hours: [7.25, 21],
    fields: (next) => ({
      systolic: Math.round(116 + next() * 16),
      diastolic: Math.round(72 + next() * 12),
      bodyPosition: "SITTING_DOWN",
      measurementLocation: "LEFT_UPPER_ARM",
    }),
  });
}

/** Weight each morning at 07:00 local, drifting down ~0.05 kg a day from 78 kg. */
export function weightRecords({ days, start = EXPORT_START, seed = 8 }) {
  return instantRecords({
    days,
    start,
    seed,
    app: CONNECT,
    device: SCALE,
    hours: [7],
    fields: (next, day) => ({ weightInKilograms: Math.round((78 - 0.05 * day + (next() - 0.5) * 0.6) * 10) / 10 }),
  });
}

/** One height, on the first morning. */
export function heightRecords({ start = EXPORT_START, seed = 9 }) {
  return instantRecords({
    days: 1,
    start,
    seed,
    app: CONNECT,
    device: SCALE,
    hours: [7],
    fields: () => ({ heightInMeters: 1.78 }),
  });
}

/** Overnight HRV (RMSSD) at 04:00 local, 35-55 ms. */
export function hrvRecords({ days, start = EXPORT_START, seed = 10 }) {
  return instantRecords({
    days,
    start,
    seed,
    app: FITNESS,
    device: WATCH,
    hours: [4],
    fields: (next) => ({ heartRateVariabilityRmssd: Math.round(35 + next() * 20) }),
  });
}

/** Overnight SpO2 every hour from 00:00 to 06:00 local, 93-98 %. */
export function oxygenSaturationRecords({ days, start = EXPORT_START, seed = 11 }) {
  return instantRecords({
    days,
    start,
    seed,
    app: FITNESS,
    device: WATCH,
    hours: [0, 1, 2, 3, 4, 5, 6],
    fields: (next) => ({ percentage: Math.round(93 + next() * 5) }),
  });
}

/** Overnight respiratory rate at 03:00 local, 13-16 breaths/min. */
export function respiratoryRateRecords({ days, start = EXPORT_START, seed = 12 }) {
  return instantRecords({
    days,
    start,
    seed,
    app: FITNESS,
    device: WATCH,
    hours: [3],
    fields: (next) => ({ rate: Math.round((13 + next() * 3) * 10) / 10 }),
  });
}

/** The run the heart rate shows: 18:00-18:45 local on even days. */
export function exerciseRecords({ days, start = EXPORT_START, seed = 13 }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  for (let day = 0; day < days; day++) {
    const begin = start + day * DAY_MS + 18 * HOUR_MS - ZONE_MS;
    if (Math.floor((begin + ZONE_MS) / DAY_MS) % 2 !== 0) continue;
    records.push({
      metadata: metadata(next, FITNESS, WATCH, begin + HOUR_MS),
      startTimeEpochMillis: begin,
      endTimeEpochMillis: begin + 45 * 60_000,
      startZoneOffsetId: ZONE,
      endZoneOffsetId: ZONE,
      exerciseType: "RUNNING",
      title: "Evening run",
      notes: null,
      appRecordFetchTimeEpochMillis: fetchedAt,
    });
  }
  return records;
}

/** Active energy per hour: a little while awake, ~450 kcal in the hour of a run. */
export function activeCaloriesRecords({ days, start = EXPORT_START, seed = 14 }) {
  const next = random(seed);
  const records = [];
  const fetchedAt = start + days * DAY_MS + 5 * 60_000;
  for (let begin = start; begin < start + days * DAY_MS; begin += HOUR_MS) {
    const hour = localHour(begin);
    const run = hour === 18 && Math.floor((begin + ZONE_MS) / DAY_MS) % 2 === 0;
    const asleep = hour < 7 || hour >= 23;
    const kcal = run ? 430 + next() * 40 : asleep ? 0 : 15 + next() * 25;
    if (kcal === 0) continue;
    records.push({
      metadata: metadata(next, FITNESS, WATCH, begin + HOUR_MS + 120_000),
      startTimeEpochMillis: begin,
      endTimeEpochMillis: begin + HOUR_MS,
      startZoneOffsetId: ZONE,
      endZoneOffsetId: ZONE,
      energyInKilocalories: Math.round(kcal * 10) / 10,
      appRecordFetchTimeEpochMillis: fetchedAt,
    });
  }
  return records;
}

/** Encodes records as the exporter would: deflate, blocks of about 64 kB before compression. */
export async function exportFile(type, records) {
  const pulse = await loadPulseModules();
  const schemaJson = pulse.readerSchemaFor(type);
  const schema = pulse.parseSchema(schemaJson);
  const recordBytes = pulse.encodeDatum(schema, records[0]).length;
  const bytes = await pulse.writeContainer(schema, records, {
    codec: "deflate",
    blockRecords: Math.max(1, Math.floor(BLOCK_BYTES / recordBytes)),
    schemaJson: JSON.stringify(schemaJson),
  });
  const fetchedAt = records[0].appRecordFetchTimeEpochMillis;
  return { type, name: `${type}Record_${fetchedAt}.avro`, bytes, records: records.length };
}

/**
 * The 7-day export of bench (b): heart rate every 6 s in 10-minute records (1,008 records,
 * 100,800 samples), hourly steps (168), nightly sleep with stages (7), CGM glucose every 5
 * minutes (2,016).
 */
export async function weekExport() {
  const days = 7;
  return Promise.all([
    exportFile("HeartRate", heartRateRecords({ days })),
    exportFile("Steps", stepsRecords({ days })),
    exportFile("SleepSession", sleepRecords({ days })),
    exportFile("BloodGlucose", glucoseRecords({ days })),
  ]);
}

/** The heart-rate file of bench (c): `days` of a sample every `sampleSeconds`. */
export async function heartRateExport({ days, sampleSeconds }) {
  return exportFile("HeartRate", heartRateRecords({ days, sampleSeconds, seed: 5 }));
}
