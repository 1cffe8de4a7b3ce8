import type { SleepStage } from "../../durable-objects/health-store/session-schema";

/**
 * Health Connect's enumerations as the exporter writes them, and Pulse's names for them.
 *
 * The exporter writes enum symbols, not Health Connect's integer constants: its schemas carry
 * `AvroSleepStageType` and `AvroExerciseType` symbols, translated from the ints on the phone
 * (STAGE_TYPE_UNKNOWN 0, AWAKE 1, SLEEPING 2, OUT_OF_BED 3, LIGHT 4, DEEP 5, REM 6,
 * AWAKE_IN_BED 7; EXERCISE_TYPE_*). Two consequences: the mapping keys on symbols, and Health
 * Connect's AWAKE_IN_BED, absent from the published stage enum, reaches Pulse as UNKNOWN from the
 * published exporter; a writer schema that does carry the symbol is mapped to `awake_in_bed`.
 */
const SLEEP_STAGES = new Map<string, SleepStage>([
  ["UNKNOWN", "unknown"],
  ["AWAKE", "awake"],
  ["SLEEPING", "sleeping"],
  ["OUT_OF_BED", "out_of_bed"],
  ["LIGHT", "light"],
  ["DEEP", "deep"],
  ["REM", "rem"],
  ["AWAKE_IN_BED", "awake_in_bed"],
]);

/** A symbol Pulse does not know (a newer exporter) is `unknown`, never a reason to lose the night. */
export function sleepStageOf(symbol: string): SleepStage {
  return SLEEP_STAGES.get(symbol) ?? "unknown";
}

/** The `AvroExerciseType` symbols of the published schema, in schema order. */
// biome-ignore format: a list of symbols
export const EXERCISE_TYPE_SYMBOLS = [
  "UNKNOWN", "OTHER_WORKOUT", "BADMINTON", "BASEBALL", "BASKETBALL", "BIKING", "BIKING_STATIONARY", "BOOT_CAMP", "BOXING",
  "CALISTHENICS", "CRICKET", "DANCING", "ELLIPTICAL", "EXERCISE_CLASS", "FENCING", "FOOTBALL_AMERICAN", "FOOTBALL_AUSTRALIAN",
  "FRISBEE_DISC", "GOLF", "GUIDED_BREATHING", "GYMNASTICS", "HANDBALL", "HIGH_INTENSITY_INTERVAL_TRAINING", "HIKING",
  "ICE_HOCKEY", "ICE_SKATING", "MARTIAL_ARTS", "PADDLING", "PARAGLIDING", "PILATES", "RACQUETBALL", "ROCK_CLIMBING",
  "ROLLER_HOCKEY", "ROWING", "ROWING_MACHINE", "RUGBY", "RUNNING", "RUNNING_TREADMILL", "SAILING", "SCUBA_DIVING", "SKATING",
  "SKIING", "SNOWBOARDING", "SNOWSHOEING", "SOCCER", "SOFTBALL", "SQUASH", "STAIR_CLIMBING", "STAIR_CLIMBING_MACHINE",
  "STRENGTH_TRAINING", "STRETCHING", "SURFING", "SWIMMING_OPEN_WATER", "SWIMMING_POOL", "TABLE_TENNIS", "TENNIS", "VOLLEYBALL",
  "WALKING", "WATER_POLO", "WEIGHTLIFTING", "WHEELCHAIR", "YOGA",
] as const;

/**
 * Every published exercise type keeps its Health Connect name in snake_case (`RUNNING` →
 * `running`, `HIGH_INTENSITY_INTERVAL_TRAINING` → `high_intensity_interval_training`), which
 * already gives the `running`, `biking`, `strength_training` vocabulary of DESIGN §5. UNKNOWN,
 * OTHER_WORKOUT and symbols outside the published schema become `other`.
 */
const EXERCISE_TYPES = new Map<string, string>(
  EXERCISE_TYPE_SYMBOLS.map((symbol) => [
    symbol,
    symbol === "UNKNOWN" || symbol === "OTHER_WORKOUT" ? "other" : symbol.toLowerCase(),
  ]),
);

export function exerciseTypeOf(symbol: string): string {
  return EXERCISE_TYPES.get(symbol) ?? "other";
}
