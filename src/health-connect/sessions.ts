import type { SleepStage } from "../../durable-objects/health-store/session-schema";
import { isPlausibleDuration } from "../observations/metrics";
import { asRecord, type DecodedRecord, readArray, readInstant, readOptionalText, readSymbol, reject } from "./fields";
import { localDateOf, parseZoneOffset } from "./local-time";
import type { MappedSleepSession, MappedWorkout } from "./mapped";
import { readSpan } from "./observations";
import type { RecordSource } from "./source";
import { exerciseTypeOf, sleepStageOf } from "./vocabularies";

/**
 * SleepSession and ExerciseSession records → sessions (DESIGN §5). Implausible durations (sleep
 * outside 0.5–16 h, a workout over 24 h) and stages outside their session are kept and flagged.
 * Limits match the HealthStore's session schema, so a mapped session is always storable.
 */
const MAX_TITLE = 500;
const MAX_NOTES = 2_000;
const MAX_STAGES = 2_000;

function sessionFields(record: DecodedRecord, source: RecordSource) {
  return {
    sourceKind: source.sourceKind,
    sourceApp: source.sourceApp,
    sourceRecordId: source.sourceRecordId,
    version: source.version,
    device: source.device,
    title: readOptionalText(record, "title", MAX_TITLE),
    notes: readOptionalText(record, "notes", MAX_NOTES),
  };
}

/** A night belongs to the morning it ends: local date and offset are the end's (else the start's). */
export function mapSleep(record: DecodedRecord, source: RecordSource): MappedSleepSession {
  const { start, end } = readSpan(record);
  const zoneOffsetSeconds = parseZoneOffset(record.endZoneOffsetId) ?? parseZoneOffset(record.startZoneOffsetId);
  const rawStages = readArray(record, "stages");
  if (rawStages.length > MAX_STAGES) reject(`stages has more than ${MAX_STAGES} entries`);

  let strayStage = false;
  const stages: { stage: SleepStage; start: number; end: number }[] = [];
  for (let i = 0; i < rawStages.length; i++) {
    const path = `stages[${i}]`;
    const entry = asRecord(rawStages[i], path);
    const stageStart = readInstant(entry, "startTimeEpochMillis", `${path}.startTimeEpochMillis`);
    const stageEnd = readInstant(entry, "endTimeEpochMillis", `${path}.endTimeEpochMillis`);
    if (stageEnd < stageStart) reject(`${path}.endTimeEpochMillis is before ${path}.startTimeEpochMillis`);
    if (stageStart < start || stageEnd > end) strayStage = true;
    stages.push({ stage: sleepStageOf(readSymbol(entry, "stage", `${path}.stage`)), start: stageStart, end: stageEnd });
  }

  return {
    ...sessionFields(record, source),
    start,
    end,
    zoneOffsetSeconds,
    localDate: localDateOf(end, zoneOffsetSeconds),
    flagged: strayStage || !isPlausibleDuration("sleep", end - start),
    stages,
  };
}

/** A workout belongs to the day it starts. */
export function mapExercise(record: DecodedRecord, source: RecordSource): MappedWorkout {
  const { start, end, zoneOffsetSeconds } = readSpan(record);
  return {
    ...sessionFields(record, source),
    start,
    end,
    zoneOffsetSeconds,
    localDate: localDateOf(start, zoneOffsetSeconds),
    flagged: !isPlausibleDuration("workout", end - start),
    exerciseType: exerciseTypeOf(readSymbol(record, "exerciseType")),
  };
}
