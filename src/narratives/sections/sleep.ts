/**
 * Sleep: time in bed, time asleep, efficiency (asleep / in bed; ≥ 85 % is the usual criterion of
 * good sleep efficiency, e.g. Ohayon et al., Sleep Health 2017), minutes and share of each stage,
 * and for a week how regular bed and wake times were. A night is the local date a session ended
 * on; naps of the same date add to its totals, and its longest session gives its bed/wake times.
 */
import type { NarrativeData, NarrativeSection, NarrativeSleep } from "../types";
import { capitalised, clock, codePart, duration, num, percent, plural, SectionFigures, words } from "../wording";

const STAGE_ORDER = ["light", "deep", "rem", "sleeping", "awake", "awake_in_bed", "out_of_bed", "unknown"];
const DAY_MINUTES = 1440;

interface Night {
  inBed: number;
  asleep: number;
  stages: Map<string, number>;
  main: NarrativeSleep;
}

/**
 * Mean and sample SD of clock times (minutes after midnight) on the 24-hour circle: the circular
 * mean direction first, then each time unwrapped to within 12 h of it, so 23:30 and 00:30 are an
 * hour apart (mean 00:00, deviations −30 and +30 min), not 23 hours.
 */
export function clockTimeStats(minutes: readonly number[]): { mean: number; sd: number | null } {
  let sin = 0;
  let cos = 0;
  for (const m of minutes) {
    const angle = (m / DAY_MINUTES) * 2 * Math.PI;
    sin += Math.sin(angle);
    cos += Math.cos(angle);
  }
  const direction = (Math.atan2(sin, cos) / (2 * Math.PI)) * DAY_MINUTES;
  let sum = 0;
  for (const m of minutes) sum += direction + unwrap(m - direction);
  const mean = sum / minutes.length;
  if (minutes.length < 2) return { mean: modDay(mean), sd: null };
  let squares = 0;
  for (const m of minutes) {
    const d = direction + unwrap(m - direction) - mean;
    squares += d * d;
  }
  return { mean: modDay(mean), sd: Math.sqrt(squares / (minutes.length - 1)) };
}

/** A difference of clock times brought into [−720, 720). */
function unwrap(difference: number): number {
  return modDay(difference + DAY_MINUTES / 2) - DAY_MINUTES / 2;
}

function modDay(minutes: number): number {
  return ((minutes % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES;
}

function nightsOf(sessions: readonly NarrativeSleep[]): Night[] {
  const byDate = new Map<string, Night>();
  for (const s of sessions) {
    let night = byDate.get(s.localDate);
    if (night === undefined) {
      night = { inBed: 0, asleep: 0, stages: new Map(), main: s };
      byDate.set(s.localDate, night);
    }
    night.inBed += s.inBedMinutes;
    night.asleep += s.asleepMinutes;
    for (const [stage, minutes] of Object.entries(s.stageMinutes))
      night.stages.set(stage, (night.stages.get(stage) ?? 0) + minutes);
    if (s.inBedMinutes > night.main.inBedMinutes) night.main = s;
  }
  return [...byDate.keys()].sort().map((date) => byDate.get(date) as Night);
}

function stageRank(stage: string): number {
  const i = STAGE_ORDER.indexOf(stage);
  return i < 0 ? STAGE_ORDER.length : i;
}

export function sleepSection(data: NarrativeData): NarrativeSection | null {
  const nights = nightsOf(data.sleep);
  if (nights.length === 0) return null;
  const week = data.period === "week";
  const figures = new SectionFigures();
  const sentences: string[] = [];

  let inBedTotal = 0;
  let asleepTotal = 0;
  for (const night of nights) {
    inBedTotal += night.inBed;
    asleepTotal += night.asleep;
  }
  const count = figures.add({ code: "nights", label: "Nights recorded", unit: "nights", decimals: 0 }, nights.length);
  const perNight = week ? " per night (mean)" : "";
  const inBed = figures.add(
    { code: "time_in_bed", label: `Time in bed${perNight}`, unit: "min", decimals: 0 },
    inBedTotal / nights.length,
  );
  const asleep = figures.add(
    { code: "time_asleep", label: `Time asleep${perNight}`, unit: "min", decimals: 0 },
    asleepTotal / nights.length,
  );
  const efficiency = figures.add(
    {
      code: "sleep_efficiency",
      label: "Sleep efficiency (asleep / in bed)",
      unit: "%",
      decimals: 1,
      reference: "≥ 85 %",
      flag: (v) => (v < 85 ? "low" : undefined),
    },
    inBedTotal > 0 ? (asleepTotal / inBedTotal) * 100 : 0,
  );
  const totals = `${duration(inBed)} in bed and ${duration(asleep)} asleep: efficiency ${percent(efficiency)} (reference ≥ 85 %)`;
  sentences.push(
    week && count > 1
      ? `${num(count)} nights recorded; per night on average ${totals}.`
      : week
        ? `1 night recorded, with ${totals}.`
        : `${capitalised(totals)}.`,
  );

  const staged = nights.filter((n) => n.stages.size > 0);
  if (staged.length === 0) {
    sentences.push("No sleep stages recorded.");
  } else {
    const sums = new Map<string, number>();
    for (const night of staged) for (const [stage, minutes] of night.stages) sums.set(stage, (sums.get(stage) ?? 0) + minutes);
    const stages = [...sums.keys()].sort((a, b) => stageRank(a) - stageRank(b) || (a < b ? -1 : a > b ? 1 : 0));
    let all = 0;
    for (const minutes of sums.values()) all += minutes;
    const parts = stages.map((stage) => {
      const total = sums.get(stage) ?? 0;
      const minutes = figures.add(
        { code: `stage_${codePart(stage)}_minutes`, label: `Stage ${words(stage)}${perNight}`, unit: "min", decimals: 0 },
        total / staged.length,
      );
      const share = figures.add(
        { code: `stage_${codePart(stage)}_share`, label: `Stage ${words(stage)}, share of staged time`, unit: "%", decimals: 1 },
        all > 0 ? (total / all) * 100 : 0,
      );
      return `${words(stage)} ${duration(minutes)} (${percent(share)})`;
    });
    let which = "";
    if (week && staged.length < nights.length) {
      const k = figures.add(
        { code: "nights_with_stages", label: "Nights with stages", unit: "nights", decimals: 0 },
        staged.length,
      );
      which = `over the ${num(k)} ${plural(k, "night")} with stages; `;
    }
    sentences.push(`Stages${week ? " per night" : ""} (${which}share of staged time): ${parts.join(", ")}.`);
  }

  const main = nights.map((n) => n.main);
  const bed = clockTimeStats(main.map((s) => s.bedtimeLocalMinutes));
  const wake = clockTimeStats(main.map((s) => s.wakeLocalMinutes));
  const bedtime = figures.add(
    { code: "bedtime", label: week ? "Bedtime (circular mean)" : "Bedtime", unit: "min after local midnight", decimals: 0 },
    Math.round(bed.mean) % DAY_MINUTES,
  );
  const waketime = figures.add(
    { code: "wake_time", label: week ? "Wake time (circular mean)" : "Wake time", unit: "min after local midnight", decimals: 0 },
    Math.round(wake.mean) % DAY_MINUTES,
  );
  if (week && bed.sd !== null && wake.sd !== null) {
    const bedSd = figures.add({ code: "bedtime_sd", label: "Bedtime SD (circular)", unit: "min", decimals: 0 }, bed.sd);
    const wakeSd = figures.add({ code: "wake_time_sd", label: "Wake time SD (circular)", unit: "min", decimals: 0 }, wake.sd);
    sentences.push(
      `Bedtime ${clock(bedtime)} ± ${duration(bedSd)}, wake time ${clock(waketime)} ± ${duration(wakeSd)} (mean ± SD over ${num(count)} nights).`,
    );
  } else {
    sentences.push(`Bedtime ${clock(bedtime)}, wake time ${clock(waketime)}.`);
  }

  return {
    domain: "sleep",
    title: "Sleep",
    sentences,
    figures: figures.list,
    coverage: { samples: data.sleep.length, daysWithData: nights.length, days: data.days.length, sufficient: true },
  };
}
