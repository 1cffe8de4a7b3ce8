#!/usr/bin/env node
// `npm run -s dev:demo-data -- [--days 14] [--out DIR] [--end <epoch ms>] [--only Type,Type]`
//
// Writes Health Connect exports covering the last N days (default 14) up to today's UTC midnight,
// as the Android exporter would: resting heart rate each morning, heart rate every minute, hourly
// steps and active energy, nightly sleep with stages, HRV, SpO2 and respiratory rate, CGM glucose
// every 5 minutes, blood pressure twice a day, weight each morning, a height, and a run every
// other evening: every domain of a clinical narrative. Prints the file paths, one per
// line, so that
//
//   eval "$(npm run -s dev:signup)"
//   npm run upload -- $(npm run -s dev:demo-data)
//
// gives a new account recent data to ask about ("what was my average resting heart rate last
// week?"). The shared samples (../shared/data) are dated 2025 and so never fall in "last week".
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  activeCaloriesRecords,
  bloodPressureRecords,
  exerciseRecords,
  exportFile,
  glucoseRecords,
  heartRateRecords,
  heightRecords,
  hrvRecords,
  oxygenSaturationRecords,
  respiratoryRateRecords,
  restingHeartRateRecords,
  sleepRecords,
  stepsRecords,
  weightRecords,
} from "../bench/export-files.mjs";

const DAY_MS = 86_400_000;

function parse(argv) {
  const options = { days: 14, out: undefined, end: Date.now(), only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--days" && /^\d{1,3}$/.test(value ?? "") && Number(value) >= 1) options.days = Number(value);
    else if (flag === "--out" && value) options.out = resolve(value);
    else if (flag === "--end" && /^\d{13}$/.test(value ?? "")) options.end = Number(value);
    // Some record types only: the upload quota (10 files a minute) makes all 13 take a minute more.
    else if (flag === "--only" && /^[A-Za-z]+(,[A-Za-z]+)*$/.test(value ?? "")) options.only = value.split(",");
    else
      throw new Error(
        `usage: npm run -s dev:demo-data -- [--days N] [--out DIR] [--end <epoch ms>] [--only Type,Type] (unexpected ${flag})`,
      );
    i++;
  }
  return options;
}

/** The records the files hold, for callers (tests) that check answers against them. */
export function demoRecords({ days, end }) {
  const start = Math.floor(end / DAY_MS) * DAY_MS - days * DAY_MS;
  return {
    RestingHeartRate: restingHeartRateRecords({ days, start }),
    HeartRate: heartRateRecords({ days, start, sampleSeconds: 60 }),
    Steps: stepsRecords({ days, start }),
    SleepSession: sleepRecords({ days, start }),
    BloodGlucose: glucoseRecords({ days, start }),
    HeartRateVariabilityRmssd: hrvRecords({ days, start }),
    OxygenSaturation: oxygenSaturationRecords({ days, start }),
    RespiratoryRate: respiratoryRateRecords({ days, start }),
    BloodPressure: bloodPressureRecords({ days, start }),
    Weight: weightRecords({ days, start }),
    Height: heightRecords({ start }),
    ExerciseSession: exerciseRecords({ days, start }),
    ActiveCaloriesBurned: activeCaloriesRecords({ days, start }),
  };
}

async function main() {
  const options = parse(process.argv.slice(2));
  const out = options.out ?? mkdtempSync(join(tmpdir(), "pulse-demo-"));
  mkdirSync(out, { recursive: true });
  const all = demoRecords(options);
  const unknown = (options.only ?? []).filter((type) => !Object.hasOwn(all, type));
  if (unknown.length > 0)
    throw new Error(`--only: no such demo record type ${unknown.join(", ")}; types: ${Object.keys(all).join(", ")}`);
  for (const [type, records] of Object.entries(all)) {
    if (options.only !== undefined && !options.only.includes(type)) continue;
    const file = await exportFile(type, records);
    const path = join(out, file.name);
    writeFileSync(path, file.bytes);
    console.log(path);
  }
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
