import { type DescribedPeriod, inPeriod } from "./question.ts";
import { formatInstant, formatMinutes, round } from "./stats.ts";
import type { Figure, SleepSessionData } from "./types.ts";
import { ASLEEP_STAGES } from "./vocabulary.ts";
import { type LocalZone, UTC_ZONE } from "./zone.ts";

export interface Finding {
  text: string;
  figures: Figure[];
}

const STAGE_ORDER = ["deep", "light", "rem", "sleeping", "awake", "awake_in_bed", "out_of_bed", "unknown"];
const STAGE_NAMES: Record<string, string> = { rem: "REM", awake_in_bed: "awake in bed", out_of_bed: "out of bed" };
const ASKED_STAGES: Record<string, string> = { deep: "deep", rem: "rem", light: "light", awake: "awake" };

function minutesBetween(start: string, end: string): number {
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) && ms > 0 ? ms / 60_000 : 0;
}

function tally(nights: readonly SleepSessionData[]): { asleep: number; byStage: Map<string, number> } {
  const byStage = new Map<string, number>();
  let asleep = 0;
  for (const night of nights) {
    let stagedAsleep = 0;
    for (const stage of night.stages) {
      const minutes = minutesBetween(stage.start, stage.end);
      byStage.set(stage.stage, (byStage.get(stage.stage) ?? 0) + minutes);
      if (ASLEEP_STAGES.has(stage.stage)) stagedAsleep += minutes;
    }
    asleep += night.stages.length === 0 ? minutesBetween(night.start, night.end) : stagedAsleep;
  }
  return { asleep, byStage };
}

/** A session starting after this long into the local day is a nap, not last night. */
const NIGHT_STARTS_BEFORE_MS = 12 * 3_600_000;

/**
 * "Last night": the most recent session ending in the period (today so far, local) that began
 * before midday, its time asleep and each stage, or the one stage asked about.
 */
export function answerLastNight(
  sessions: readonly SleepSessionData[],
  period: DescribedPeriod,
  text: string,
  zone: LocalZone = UTC_ZONE,
): Finding {
  const since = period.since === null ? Number.NEGATIVE_INFINITY : Date.parse(period.since);
  const until = period.until === null ? Number.POSITIVE_INFINITY : Date.parse(period.until);
  const night = sessions
    .filter((session) => {
      const end = Date.parse(session.end);
      return end > since && end <= until && Date.parse(session.start) < since + NIGHT_STARTS_BEFORE_MS;
    })
    .sort((a, b) => Date.parse(b.end) - Date.parse(a.end))[0];
  if (night === undefined) return { text: "I have no sleep session that ended this morning (last night).", figures: [] };
  const { asleep, byStage } = tally([night]);
  const window = `${formatInstant(Date.parse(night.start), zone)} to ${formatInstant(Date.parse(night.end), zone)}`;
  const asked = Object.entries(ASKED_STAGES).find(([word]) => new RegExp(`\\b${word}\\b`).test(text))?.[1];
  if (asked !== undefined) {
    const name = STAGE_NAMES[asked] ?? asked;
    const minutes = round(byStage.get(asked) ?? 0, 0);
    return {
      text: `Last night (${window}) you had ${formatMinutes(minutes)} of ${name} sleep.`,
      figures: [{ label: `${name} sleep last night`, value: minutes, unit: "min" }],
    };
  }
  const stages = [...byStage.keys()]
    .sort((a, b) => (STAGE_ORDER.indexOf(a) + 1 || 99) - (STAGE_ORDER.indexOf(b) + 1 || 99))
    .map((stage) => ({ name: STAGE_NAMES[stage] ?? stage, minutes: round(byStage.get(stage) ?? 0, 0) }));
  const breakdown =
    stages.length === 0 ? "" : `: ${stages.map((stage) => `${stage.name} ${formatMinutes(stage.minutes)}`).join(", ")}`;
  const total = round(asleep, 0);
  return {
    text: `Last night (${window}) you slept ${formatMinutes(total)}${breakdown}.`,
    figures: [
      { label: "time asleep last night", value: total, unit: "min" },
      ...stages.map((stage) => ({ label: `${stage.name} last night`, value: stage.minutes, unit: "min" })),
    ],
  };
}

/**
 * Averages per night of time asleep and of each stage. A session without stages counts whole as
 * asleep, as the HealthStore's totals do; a session belongs to the period its start falls in.
 */
export function answerSleep(sessions: readonly SleepSessionData[], period: DescribedPeriod, text: string): Finding {
  const nights = sessions.filter((session) => inPeriod(Date.parse(session.start), period));
  if (nights.length === 0) return { text: `I have no sleep data ${period.label}.`, figures: [] };
  const { asleep, byStage } = tally(nights);
  const count = nights.length;
  const nightsText = `${count} night${count === 1 ? "" : "s"}`;
  const asked = Object.entries(ASKED_STAGES).find(([word]) => new RegExp(`\\b${word}\\b`).test(text))?.[1];
  if (asked !== undefined) {
    const name = STAGE_NAMES[asked] ?? asked;
    const average = round((byStage.get(asked) ?? 0) / count, 0);
    return {
      text: `You averaged ${formatMinutes(average)} of ${name} sleep per night over ${nightsText} ${period.label}.`,
      figures: [
        { label: `average ${name} sleep per night`, value: average, unit: "min" },
        { label: "nights", value: count, unit: "count" },
      ],
    };
  }
  const averageAsleep = round(asleep / count, 0);
  const stages = [...byStage.keys()]
    .sort((a, b) => (STAGE_ORDER.indexOf(a) + 1 || 99) - (STAGE_ORDER.indexOf(b) + 1 || 99))
    .map((stage) => ({ name: STAGE_NAMES[stage] ?? stage, minutes: round((byStage.get(stage) ?? 0) / count, 0) }));
  const breakdown =
    stages.length === 0 ? "" : `: ${stages.map((stage) => `${stage.name} ${formatMinutes(stage.minutes)}`).join(", ")}`;
  return {
    text: `Over ${nightsText} ${period.label} you slept ${formatMinutes(averageAsleep)} per night on average${breakdown}.`,
    figures: [
      { label: "average time asleep per night", value: averageAsleep, unit: "min" },
      ...stages.map((stage) => ({ label: `average ${stage.name} per night`, value: stage.minutes, unit: "min" })),
      { label: "nights", value: count, unit: "count" },
    ],
  };
}
