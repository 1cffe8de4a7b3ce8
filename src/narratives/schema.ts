import { z } from "@hono/zod-openapi";
import { dateSchema, RANGE_TEXT } from "../observations/dates";
import { METRIC_CATEGORIES } from "../observations/metrics";
import { NARRATIVE_DOMAINS, NARRATIVE_PERIODS } from "./types";

/**
 * Shapes of the narrative routes. The body of a narrative is src/narratives/types.ts
 * `NarrativeBody`, with its instants written as ISO 8601 in the narrative's time zone, as the read
 * API writes them.
 */
export const NarrativeQuerySchema = z.strictObject({
  period: z.enum(NARRATIVE_PERIODS).default("day").openapi({
    description: "`day`, or `week`: the ISO week (Monday to Sunday) containing `date`",
  }),
  date: dateSchema.optional().openapi({ description: `A local calendar date, ${RANGE_TEXT}; today in \`tz\` by default` }),
  tz: z.string().min(1).max(64).default("UTC").openapi({
    description: "IANA time zone (`Europe/Paris`), fixed offset (`+05:30`) or `UTC`: where the days begin.",
    example: "Europe/Paris",
  }),
});

export const NarrativeIdParamsSchema = z.object({
  id: z.string().openapi({ description: "A narrative id (`nar_…`)", example: "nar_abcdefghijklmnopqrstuvwxyz" }),
});

const instant = z.string().openapi({ format: "date-time" });
const domain = z.enum(NARRATIVE_DOMAINS);

const FigureSchema = z
  .object({
    code: z.string().openapi({ example: "time_in_range" }),
    label: z.string(),
    value: z.number().nullable(),
    unit: z.string(),
    reference: z.string().optional().openapi({ description: "The reference or target the value is read against" }),
    flag: z.enum(["low", "high", "attention"]).optional(),
  })
  .openapi("NarrativeFigure");

const CoverageSchema = z
  .object({
    samples: z.number().int(),
    daysWithData: z.number().int(),
    days: z.number().int(),
    percent: z.number().optional().openapi({ description: "Share of expected readings present, where a rule defines one" }),
    sufficient: z.boolean().openapi({ description: "False when a rule's minimum (CGM: ≥ 70 % of readings) is not met" }),
  })
  .openapi("NarrativeCoverage");

const SectionSchema = z
  .object({
    domain,
    title: z.string(),
    sentences: z.array(z.string()),
    figures: z.array(FigureSchema),
    coverage: CoverageSchema,
  })
  .openapi("NarrativeSection");

const body = {
  period: z.enum(NARRATIVE_PERIODS),
  date: z.string().openapi({ format: "date", description: "The first local date (a week's Monday)" }),
  endDate: z.string().openapi({ format: "date", description: "The last local date (the same as `date` for a day)" }),
  timeZone: z.string(),
  start: instant,
  end: instant,
  generatedAt: instant.openapi({ description: "When this text was computed from the data" }),
  sections: z.array(SectionSchema).openapi({ description: "One per domain with data, in a fixed order" }),
  noData: z.array(domain).openapi({ description: "Domains with no data in the period" }),
};

export const NarrativeSchema = z.object({ id: z.string(), ...body }).openapi("Narrative");

export const PatientNarrativeSchema = z
  .object({
    id: z.string().nullable().openapi({
      description: "The stored narrative's id; null when it was computed for your grant's period and not stored",
    }),
    ...body,
    categories: z.array(z.enum(METRIC_CATEGORIES)).openapi({ description: "The grant's categories the narrative shows" }),
    withheld: z.array(domain).openapi({ description: "Domains left out because your grant does not cover their category" }),
  })
  .openapi("PatientNarrative");

export type NarrativeView = z.infer<typeof NarrativeSchema>;
export type PatientNarrativeView = z.infer<typeof PatientNarrativeSchema>;
