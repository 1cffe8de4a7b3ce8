import { asRecord, RecordRejection } from "./fields";
import { emptyMapped, type MappedObservation, type MappedRecords } from "./mapped";
import { RECORD_MAPPINGS } from "./mapping-table";
import { mapInterval, mapPoint, mapSeries } from "./observations";
import type { RecordType } from "./record-types";
import { mapExercise, mapSleep } from "./sessions";
import { readSource, recordIdOf } from "./source";

/**
 * Maps decoded Health Connect records (plain objects shaped like the reader schemas: unions as
 * the bare value or null, longs as numbers, enums as symbols) to HealthStore inputs. Pure and
 * synchronous, so it runs the same in workerd and Node. It never throws for a bad record: the
 * record lands in `rejected` with its reason and the others are mapped.
 */
export function mapRecord(type: RecordType, record: unknown): MappedRecords {
  return mapRecords(type, [record]);
}

/** Maps many records of one type into `into` (a fresh result by default) and returns it. */
export function mapRecords(type: RecordType, records: Iterable<unknown>, into: MappedRecords = emptyMapped()): MappedRecords {
  for (const record of records) {
    try {
      mapOne(type, record, into);
    } catch (error) {
      if (!(error instanceof RecordRejection)) throw error;
      into.rejected.push({ sourceRecordId: recordIdOf(record), reason: error.message });
    }
  }
  return into;
}

/** Appends only once the whole record has mapped, so a rejected record leaves nothing behind. */
function mapOne(type: RecordType, raw: unknown, into: MappedRecords): void {
  const record = asRecord(raw, "record");
  const source = readSource(record);
  const mapping = RECORD_MAPPINGS[type];
  switch (mapping.shape) {
    case "point":
      append(into.observations, mapPoint(record, source, mapping.values));
      break;
    case "interval":
      append(into.observations, mapInterval(record, source, mapping.values, mapping.nullable));
      break;
    case "series":
      append(into.observations, mapSeries(record, source, mapping.sample));
      break;
    case "sleep":
      into.sleepSessions.push(mapSleep(record, source));
      break;
    case "exercise":
      into.workouts.push(mapExercise(record, source));
      break;
  }
}

// A loop rather than push(...items): a long series would exceed the engine's argument limit.
function append(target: MappedObservation[], items: readonly MappedObservation[]): void {
  for (const item of items) target.push(item);
}
