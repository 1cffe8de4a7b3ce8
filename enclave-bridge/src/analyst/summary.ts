import type { SummaryTarget } from "./question.ts";
import type { AnalystAnswer, Figure, SummaryData, SummarySection } from "./types.ts";
import { type AnalystMetric, SLEEP } from "./vocabulary.ts";

/**
 * "Summarize my week", "how was my day": answered with the person's clinical narrative of that
 * local day or week (src/narratives, read by the Worker and sealed with the question), its
 * sentences and its figures unchanged, so the summary and GET /v1/narratives never disagree. The
 * analyst adds no number of its own; without a narrative there is nothing to summarize, and it
 * says so rather than answering with an average.
 */

/** Which stored metrics a section's figures rest on, by figure code (src/narratives/sections). */
const FIGURE_METRICS: readonly { domain: string; code: RegExp; metrics: readonly string[] }[] = [
  { domain: "glucose", code: /./, metrics: ["blood_glucose"] },
  { domain: "heart", code: /^resting_heart_rate/, metrics: ["resting_heart_rate"] },
  { domain: "heart", code: /^(?:heart_rate_samples|max_heart_rate|min_heart_rate|minutes_above_100)$/, metrics: ["heart_rate"] },
  { domain: "heart", code: /^hrv_rmssd/, metrics: ["hrv_rmssd"] },
  { domain: "heart", code: /oxygen_saturation|spo2/, metrics: ["oxygen_saturation"] },
  { domain: "heart", code: /^respiratory_rate/, metrics: ["respiratory_rate"] },
  { domain: "blood_pressure", code: /./, metrics: ["blood_pressure_systolic", "blood_pressure_diastolic"] },
  { domain: "sleep", code: /./, metrics: [SLEEP] },
  { domain: "activity", code: /steps/, metrics: ["steps"] },
  { domain: "activity", code: /active_energy/, metrics: ["active_energy"] },
  { domain: "activity", code: /workout/, metrics: ["workout"] },
  { domain: "body", code: /^weight|^bmi$/, metrics: ["weight"] },
  { domain: "body", code: /^height$|^bmi$/, metrics: ["height"] },
];

/** The narrative domain each measure the analyst knows is reported in. */
const METRIC_DOMAIN: Partial<Record<AnalystMetric | typeof SLEEP, string>> = {
  blood_glucose: "glucose",
  resting_heart_rate: "heart",
  heart_rate: "heart",
  hrv_rmssd: "heart",
  oxygen_saturation: "heart",
  respiratory_rate: "heart",
  blood_pressure_systolic: "blood_pressure",
  blood_pressure_diastolic: "blood_pressure",
  sleep: "sleep",
  steps: "activity",
  active_energy: "activity",
  weight: "body",
};

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The summary of `target` from `narrative`; `asked` names the measures the question named
 * ("summarize my sleep this week"), whose sections alone are given, or is empty for all.
 */
export function answerSummary(
  target: SummaryTarget,
  narrative: SummaryData | undefined,
  asked: readonly string[],
): AnalystAnswer {
  const label = target.label;
  // A narrative of another day or week (or none) is no answer to this question.
  if (narrative === undefined || narrative.period !== target.period || narrative.date !== target.date) {
    return { answer: `I have no data to summarize for ${label}.`, usedMetrics: [], figures: [] };
  }
  const domains = new Set(asked.map((code) => METRIC_DOMAIN[code as AnalystMetric]).filter((domain) => domain !== undefined));
  const unknown = asked.some((code) => METRIC_DOMAIN[code as AnalystMetric] === undefined);
  if (unknown) {
    return {
      answer:
        "I can summarize glucose, heart, blood pressure, sleep, activity and body measures; " +
        `ask e.g. "summarize my week" or "summarize my sleep this week".`,
      usedMetrics: [],
      figures: [],
    };
  }
  const sections = narrative.sections.filter((section) => domains.size === 0 || domains.has(section.domain));
  if (sections.length === 0) {
    const what = domains.size === 0 ? "data" : `${[...domains].join(" or ").replace("_", " ")} data`;
    return { answer: `I have no ${what} to summarize for ${label}.`, usedMetrics: [], figures: [] };
  }
  const text = sections.map((section) => `${section.title}: ${section.sentences.join(" ")}`).join(" ");
  const missing = domains.size === 0 ? narrative.noData : [];
  const tail = missing.length === 0 ? "" : ` No data for: ${missing.join(", ").replace(/_/g, " ")}.`;
  return {
    answer: `${capitalized(label)}: ${text}${tail}`,
    usedMetrics: metricsBehind(sections),
    figures: sections.flatMap((section) =>
      section.figures.flatMap((figure): Figure[] =>
        figure.value === null ? [] : [{ label: `${section.title}: ${figure.label}`, value: figure.value, unit: figure.unit }],
      ),
    ),
  };
}

/** The stored metrics (and "sleep") the sections' figures rest on, in first-seen order. */
export function metricsBehind(sections: readonly SummarySection[]): string[] {
  const used: string[] = [];
  for (const section of sections) {
    for (const figure of section.figures) {
      if (figure.value === null) continue;
      for (const entry of FIGURE_METRICS) {
        if (entry.domain !== section.domain || !entry.code.test(figure.code)) continue;
        for (const metric of entry.metrics) if (!used.includes(metric)) used.push(metric);
      }
    }
  }
  return used;
}
