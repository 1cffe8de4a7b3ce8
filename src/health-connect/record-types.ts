import { READER_SCHEMAS, type ReaderSchemaName } from "./schemas/reader-schemas";

/**
 * The 31 Health Connect record types of the open-source exporter (DESIGN §6): Avro record names
 * are `Avro<Type>Record`, export files are named `<Type>Record_<fetchEpochMillis>.avro`, and
 * Pulse names a type by the bare `<Type>` (`HeartRate`, `SleepSession`, ...).
 */
export const RECORD_TYPES = [
  "ActiveCaloriesBurned",
  "BasalBodyTemperature",
  "BasalMetabolicRate",
  "BloodGlucose",
  "BloodPressure",
  "BodyFat",
  "BodyTemperature",
  "BodyWaterMass",
  "BoneMass",
  "CyclingPedalingCadence",
  "Distance",
  "ElevationGained",
  "ExerciseSession",
  "FloorsClimbed",
  "HeartRate",
  "HeartRateVariabilityRmssd",
  "Height",
  "Hydration",
  "LeanBodyMass",
  "Nutrition",
  "OxygenSaturation",
  "Power",
  "RespiratoryRate",
  "RestingHeartRate",
  "SleepSession",
  "Speed",
  "StepsCadence",
  "Steps",
  "TotalCaloriesBurned",
  "Vo2Max",
  "Weight",
] as const satisfies readonly (ReaderSchemaName extends `Avro${infer T}Record` ? T : never)[];

export type RecordType = (typeof RECORD_TYPES)[number];

/** The Avro namespace every published schema shares. */
export const SCHEMA_NAMESPACE = "io.github.hitoshura25.healthsyncapp.data.avro";

const KNOWN = new Set<string>(RECORD_TYPES);

export function isRecordType(value: string): value is RecordType {
  return KNOWN.has(value);
}

export function schemaNameFor(type: RecordType): ReaderSchemaName {
  return `Avro${type}Record`;
}

/** The published reader schema (the .avsc JSON) of a record type. */
export function readerSchemaFor(type: RecordType): (typeof READER_SCHEMAS)[ReaderSchemaName] {
  return READER_SCHEMAS[schemaNameFor(type)];
}

/**
 * `AvroHeartRateRecord` → `HeartRate`. Accepts the full name with the exporter's namespace too
 * (writer schemas in file headers may carry either); anything else is `null`.
 */
export function recordTypeFromSchemaName(name: string): RecordType | null {
  const bare = name.startsWith(`${SCHEMA_NAMESPACE}.`) ? name.slice(SCHEMA_NAMESPACE.length + 1) : name;
  const match = /^Avro([A-Za-z0-9]+)Record$/.exec(bare);
  const type = match?.[1];
  return type !== undefined && isRecordType(type) ? type : null;
}

export interface ExportFileName {
  recordType: RecordType;
  /** When the exporter read the records from Health Connect (epoch milliseconds). */
  fetchedAt: number;
}

/**
 * Parses `<Type>Record_<fetchEpochMillis>.avro` (a path prefix is ignored). `null` for any other
 * name: the file name is a hint only, the schema in the file header decides the record type.
 */
export function parseExportFileName(fileName: string): ExportFileName | null {
  const base = fileName.slice(Math.max(fileName.lastIndexOf("/"), fileName.lastIndexOf("\\")) + 1);
  const match = /^([A-Za-z0-9]+)Record_(\d{1,15})\.avro$/.exec(base);
  if (match === null) return null;
  const [, type = "", millis = ""] = match;
  const fetchedAt = Number(millis);
  if (!isRecordType(type) || !Number.isSafeInteger(fetchedAt)) return null;
  return { recordType: type, fetchedAt };
}
