import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { NarrativeResult } from "../../durable-objects/health-store/narratives";
import type { AuditContext } from "../audit/event";
import { formatAuditResource } from "../audit/resource";
import { idPattern } from "../db/ids";
import { DomainError } from "../errors/domain-error";
import type { MetricCategory } from "../observations/metrics";
import { formatInstant } from "../observations/time-zone";
import {
  activeGrantsFor,
  categoryForbidden,
  chooseGrant,
  grantCategories,
  grantPeriod,
  touchGrant,
} from "../sharing/grant-access";
import type { GranteeReadContext } from "../sharing/patient-reads";
import { resolveNarrativePeriod, resolveTimeZone } from "./period";
import type { NarrativeView, PatientNarrativeView } from "./schema";
import { DOMAIN_CATEGORY, NARRATIVE_DOMAINS, type NarrativePeriod } from "./types";

/**
 * The narrative routes' domain functions: the person's own narratives (their own HealthStore, so
 * another person's id is not addressable at all), and a grantee's through one active grant, limited
 * to its categories and period (DESIGN §8). The store records `narratives.read` with the read.
 */
export interface NarrativeReadContext {
  stores: DurableObjectNamespace<HealthStore>;
  userId: string;
  audit: AuditContext;
  now: number;
}

export interface NarrativeQuery {
  period: NarrativePeriod;
  date?: string | undefined;
  tz: string;
}

const NARRATIVE_ID = idPattern("nar");
/** The categories narratives are made of, in the order of their domains. */
export const NARRATIVE_CATEGORIES: MetricCategory[] = [...new Set(NARRATIVE_DOMAINS.map((domain) => DOMAIN_CATEGORY[domain]))];

export async function readOwnNarrative(ctx: NarrativeReadContext, query: NarrativeQuery): Promise<NarrativeView> {
  const target = resolveNarrativePeriod(query.period, query.date, resolveTimeZone(query.tz), ctx.now);
  const result = await healthStoreFor(ctx.stores, ctx.userId).narrative(
    { period: target.period, date: target.date, timeZone: target.timeZone.name, zone: target.offsets },
    { ...ctx.audit, subject: ctx.userId },
  );
  return present(result, result.narrative.id ?? "");
}

/** A stored narrative of the caller's; a malformed id is answered like an unknown one (404). */
export async function readNarrativeById(ctx: NarrativeReadContext, id: string): Promise<NarrativeView> {
  if (!NARRATIVE_ID.test(id)) throw new DomainError("NOT_FOUND", "No narrative with this id.");
  const result = await healthStoreFor(ctx.stores, ctx.userId).narrativeById(id, { ...ctx.audit, subject: ctx.userId });
  return present(result, id);
}

/**
 * A patient's narrative as their grant shows it: the sections of the granted categories only
 * (`withheld` names the others), computed from the grant's period of data alone when it has one.
 * 404 when not shared with the caller (before any store is addressed); 403, recorded as `denied`,
 * when the grant covers none of the narrative's categories.
 */
export async function readPatientNarrative(ctx: GranteeReadContext, query: NarrativeQuery): Promise<PatientNarrativeView> {
  const target = resolveNarrativePeriod(query.period, query.date, resolveTimeZone(query.tz), ctx.now);
  const active = await activeGrantsFor(ctx.db, ctx);
  const choice = chooseGrant(active, [], NARRATIVE_CATEGORIES);
  const grant = "grant" in choice ? choice.grant : undefined;
  const categories =
    grant === undefined ? [] : grantCategories(grant).filter((category) => NARRATIVE_CATEGORIES.includes(category));
  const store = healthStoreFor(ctx.stores, ctx.patientId);
  const audit = { ...ctx.audit, subject: ctx.patientId };
  if (grant === undefined || categories.length === 0) {
    const resource = formatAuditResource({ kind: "narrative", date: target.date, since: target.start, until: target.end });
    await store.appendAuditEvent({ action: "narratives.read", resource, result: "denied" }, audit);
    throw categoryForbidden({ missing: NARRATIVE_CATEGORIES, split: false });
  }
  const within = grantPeriod(grant);
  const result = await store.narrative(
    {
      period: target.period,
      date: target.date,
      timeZone: target.timeZone.name,
      zone: target.offsets,
      categories,
      ...(within === undefined ? {} : { within }),
    },
    audit,
  );
  await touchGrant(ctx.db, grant, ctx.now);
  return { ...present(result, result.narrative.id), categories, withheld: result.withheld };
}

function present<Id extends string | null>(result: NarrativeResult, id: Id): Omit<NarrativeView, "id"> & { id: Id } {
  const { narrative, zone } = result;
  return {
    id,
    period: narrative.period,
    date: narrative.date,
    endDate: narrative.endDate,
    timeZone: narrative.timeZone,
    start: formatInstant(zone, narrative.start),
    end: formatInstant(zone, narrative.end),
    generatedAt: new Date(narrative.generatedAt).toISOString(),
    sections: narrative.sections,
    noData: narrative.noData,
  };
}
