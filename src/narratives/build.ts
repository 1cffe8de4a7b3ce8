import { activitySection } from "./sections/activity";
import { bloodPressureSection } from "./sections/blood-pressure";
import { bodySection } from "./sections/body";
import { glucoseSection } from "./sections/glucose";
import { heartSection } from "./sections/heart";
import { sleepSection } from "./sections/sleep";
import { NARRATIVE_DOMAINS, type NarrativeBody, type NarrativeData, type NarrativeDomain, type NarrativeSection } from "./types";

const SECTIONS: Record<NarrativeDomain, (data: NarrativeData) => NarrativeSection | null> = {
  glucose: glucoseSection,
  heart: heartSection,
  blood_pressure: bloodPressureSection,
  sleep: sleepSection,
  activity: activitySection,
  body: bodySection,
};

/**
 * The narrative of one period from its data: deterministic (no clock, no randomness, no time-zone
 * database — the local day boundaries come with the data), so the same data always gives the same
 * text. Methods, thresholds and sources: docs/narrative-methods.md.
 */
export function buildNarrative(data: NarrativeData): NarrativeBody {
  const sections: NarrativeSection[] = [];
  const noData: NarrativeDomain[] = [];
  for (const domain of NARRATIVE_DOMAINS) {
    const section = SECTIONS[domain](data);
    if (section === null) noData.push(domain);
    else sections.push(section);
  }
  return {
    period: data.period,
    date: data.date,
    endDate: data.days.at(-1)?.date ?? data.date,
    timeZone: data.timeZone,
    start: data.start,
    end: data.end,
    sections,
    noData,
  };
}
