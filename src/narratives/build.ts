import type { NarrativeBody, NarrativeData } from "./types";

/**
 * The narrative of one period from its data: deterministic, the same data always giving the same
 * text. (Being built: sections come with the narrative-computation work.)
 */
export function buildNarrative(data: NarrativeData): NarrativeBody {
  const last = data.days.at(-1);
  return {
    period: data.period,
    date: data.date,
    endDate: last?.date ?? data.date,
    timeZone: data.timeZone,
    start: data.start,
    end: data.end,
    sections: [],
    noData: [],
  };
}
