/**
 * docs/fhir.md's metric table is what Pulse emits: every registry metric once, with the LOINC
 * codes, UCUM unit, categories and profile of its Observation as `sampleObservation` writes it
 * and the registry's own LOINC and UCUM. Changing either the registry or the mapping without the
 * document fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { Observation } from "../../durable-objects/health-store/schema";
import { LOINC, OBSERVATION_CATEGORY, PULSE_CATEGORY_SYSTEM, sampleObservation } from "../../src/fhir/resources";
import { isMetricCode, METRIC_CODES, METRICS, type MetricCode } from "../../src/observations/metrics";

const HEADER = "| Metric | Display | LOINC | UCUM | Category | Pulse category | Profile |";
const doc = readFileSync(new URL("../../docs/fhir.md", import.meta.url), "utf8");

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const next = markdown.indexOf("\n## ", start + heading.length + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

interface Row {
  metric: string;
  display: string;
  loinc: string[];
  ucum: string[];
  category: string[];
  pulseCategory: string[];
  profile: string;
}

function ticked(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? "");
}

function metricRows(markdown: string): Row[] {
  const lines = section(markdown, "## Resources and mapping").split("\n");
  const at = lines.findIndex((line) => line.replace(/\s+/g, " ").trim() === HEADER);
  if (at < 0) throw new Error("no metric table");
  const rows: Row[] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim());
    const [metric = "", display = "", loinc = "", ucum = "", category = "", pulseCategory = "", profile = ""] = cells;
    rows.push({
      metric: ticked(metric)[0] ?? metric,
      display,
      loinc: ticked(loinc),
      ucum: ticked(ucum),
      category: ticked(category),
      pulseCategory: ticked(pulseCategory),
      profile: /\[([a-z]+)\]\(http:\/\/hl7\.org\/fhir\/R4\/\1\.html\)/.exec(profile)?.[1] ?? profile,
    });
  }
  return rows;
}

function sampleOf(metric: MetricCode): Observation {
  const { min, max } = METRICS[metric].range;
  return {
    id: 1,
    metric,
    start: 0,
    end: 0,
    value: (min + max) / 2,
    unit: METRICS[metric].unit,
    sourceKind: "upload",
    sourceApp: "app",
    device: null,
    sourceRecordId: "r",
    zoneOffsetSeconds: null,
    localDate: "1970-01-01",
    flagged: false,
    version: 0,
  };
}

const CTX = { baseUrl: "https://api.pulse.example/v1/fhir", userId: "usr_abcdefghijklmnopqrstuvwxyz" };
const rows = metricRows(doc);

describe("docs/fhir.md, Resources and mapping", () => {
  test("the metric table lists every registry metric exactly once, and nothing else", () => {
    expect(rows.map((row) => row.metric).sort()).toEqual([...METRIC_CODES].sort());
  });

  test.each(rows.map((row) => [row.metric, row] as const))(
    "%s: as the registry and the emitted Observation say",
    (metric, row) => {
      if (!isMetricCode(metric)) throw new Error(`${metric} is not a registry metric`);
      const { display, loinc, ucum, category } = METRICS[metric];
      const observation = sampleObservation(sampleOf(metric), CTX);

      expect(row.display).toBe(display);
      // The registry's LOINC is listed; the list is exactly the Observation's LOINC codings.
      if (loinc === null) expect(row.loinc).not.toContain(null);
      else expect(row.loinc).toContain(loinc);
      expect(row.loinc).toEqual(
        observation.code.coding?.filter((coding) => coding.system === LOINC).map((coding) => coding.code),
      );
      // The registry's UCUM first; a second unit (after →) when the Observation is converted.
      expect(row.ucum[0]).toBe(ucum);
      expect(row.ucum.at(-1)).toBe(observation.valueQuantity?.code);
      expect(row.ucum.length === 2).toBe(observation.valueQuantity?.code !== ucum);

      const codes = (system: string) =>
        (observation.category ?? [])
          .flatMap((concept) => concept.coding ?? [])
          .filter((c) => c.system === system)
          .map((c) => c.code);
      expect(row.category).toEqual(codes(OBSERVATION_CATEGORY));
      expect(row.pulseCategory).toEqual([category]);
      expect(row.pulseCategory).toEqual(codes(PULSE_CATEGORY_SYSTEM));

      const profile = observation.meta?.profile?.[0]?.replace("http://hl7.org/fhir/StructureDefinition/", "") ?? "—";
      expect(row.profile).toBe(profile);
    },
  );
});
