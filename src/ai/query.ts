/**
 * One confidential-AI question (DESIGN §9): verify the enclave first, then read only the data the
 * question needs from the asker's own HealthStore (audited there as `ai.query` with the data
 * categories, never the question), seal it with the question to the attested key, verify the
 * enclave's signed receipt for the answer, record the receipt's hash (`ai.answer`, same request id)
 * and return the answer with its receipt. The Worker never sees the answer being computed and never
 * logs either text.
 *
 * Calendar words are local to the request's `tz`: the same functions pick the window here and read
 * the question in the enclave. A summary ("summarize my week") reads the person's clinical
 * narrative of that local day or week instead of series, in the same `ai.query` event.
 */

import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import {
  type AnalystMetric,
  METRIC_WORDS,
  metricsNeeded,
  periodOf,
  SLEEP,
  summaryTarget,
} from "../../enclave-bridge/src/analyst/index.ts";
import type { AuditContext } from "../audit/event";
import { formatAuditResource } from "../audit/resource";
import { DomainError } from "../errors/domain-error";
import { resolveNarrativePeriod, resolveTimeZone } from "../narratives/period";
import type { MetricCode } from "../observations/metrics";
import type { EnclaveClient } from "./enclave";
import type { QueryBody } from "./schema";

// Every metric the analyst understands is a stored metric: a compile-time check across the boundary.
const ANALYST_METRICS: readonly MetricCode[] = Object.keys(METRIC_WORDS) as AnalystMetric[];
const METRIC_SET: ReadonlySet<string> = new Set(ANALYST_METRICS);

const DAY_MS = 86_400_000;
/** Without a period in the question or the request, the enclave sees the last 90 days. */
const DEFAULT_WINDOW_MS = 90 * DAY_MS;
const MAX_WINDOW_MS = 732 * DAY_MS;
/** A client's "until now" a little before the Worker's clock is not a cut. */
const CUT_TOLERANCE_MS = 5 * 60_000;
/**
 * Samples sent per query, shared among the metrics asked about (one metric gets up to 50,000):
 * keeps the sealed request (~45 bytes a sample) well under the bridge's 16 MiB frame.
 */
const MAX_POINTS = 200_000;
const MAX_POINTS_PER_METRIC = 50_000;

export interface QueryContext {
  stores: DurableObjectNamespace<HealthStore>;
  userId: string;
  audit: AuditContext;
  now: Date;
  enclave: EnclaveClient;
}

export async function askQuestion(ctx: QueryContext, body: QueryBody) {
  const now = ctx.now.toISOString();
  // Canonical ("Z" and "+00:00" read "UTC", "europe/paris" "Europe/Paris"): what the enclave reads and echoes.
  const zone = resolveTimeZone(body.tz ?? "UTC");
  const timeZone = zone.name;
  const window = windowOf(body, now, ctx.now.getTime(), timeZone);
  const summary = summaryTarget(body.question, now, timeZone);
  // A summary is answered from the narrative alone: no series are read for it.
  const needed = summary === null ? metricsNeeded(body.question) : [];
  const metrics = needed.filter((code) => METRIC_SET.has(code)) as MetricCode[];
  const narrative = summary === null ? undefined : resolveNarrativePeriod(summary.period, summary.date, zone, ctx.now.getTime());

  const session = await ctx.enclave.session();
  const store = healthStoreFor(ctx.stores, ctx.userId);
  const dataset = await store.analysisDataset(
    {
      metrics,
      sleep: needed.includes(SLEEP),
      since: window.since,
      until: window.until,
      maxPointsPerMetric: pointsPerMetric(metrics.length),
      ...(narrative === undefined
        ? {}
        : {
            narrative: {
              period: narrative.period,
              date: narrative.date,
              timeZone: narrative.timeZone.name,
              zone: narrative.offsets,
            },
          }),
    },
    { ...ctx.audit, subject: ctx.userId },
  );
  const audit = { ...ctx.audit, subject: ctx.userId };
  let answer: Awaited<ReturnType<EnclaveClient["ask"]>>;
  try {
    answer = await ctx.enclave.ask({ question: body.question, now, timeZone, data: dataset }, session);
  } catch (error) {
    // The read is in the log already; say that no verified answer came of it. The request's own
    // error is what the caller gets, whether or not this second event could be written.
    await store
      .appendAuditEvent({ action: "ai.answer", resource: formatAuditResource({ kind: "receipt" }), result: "failure" }, audit)
      .catch(() => {});
    throw error;
  }
  // Appended, never a rewrite of the `ai.query` event: the chain is append-only. Shown beside it
  // in the access log by the shared request id (src/access-log/describe.ts).
  await store.appendAuditEvent(
    { action: "ai.answer", resource: formatAuditResource({ kind: "receipt", id: answer.receiptSha256 }), result: "success" },
    audit,
  );
  const model = answer.identity.model;
  return {
    answer: answer.answer,
    usedMetrics: answer.usedMetrics,
    figures: answer.figures,
    period: { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString() },
    attestation: {
      pcr0: answer.attestation.pcrs[0] ?? "",
      moduleId: answer.attestation.moduleId,
      verifiedAt: answer.verifiedAt.toISOString(),
    },
    model,
    ...(model.confidential ? {} : { notice: NON_CONFIDENTIAL_NOTICE }),
    receipt: {
      payload: answer.receipt.payload,
      signature: answer.receipt.signature,
      attestationDocument: base64(answer.document),
      sha256: answer.receiptSha256,
    },
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Said with every answer from a model that the enclave's attestation says runs outside attested hardware. */
export const NON_CONFIDENTIAL_NOTICE =
  "This answer came from a model outside attested hardware: its operator could see your question and the data sent with it.";

function pointsPerMetric(count: number): number {
  return Math.min(MAX_POINTS_PER_METRIC, Math.floor(MAX_POINTS / Math.max(1, count)));
}

/** The request's bounds where given, else the question's own period, else the last 90 days. */
function windowOf(body: QueryBody, now: string, nowMs: number, timeZone: string): { since: number; until: number } {
  const asked = periodOf(body.question, now, timeZone);
  // The answer names the question's period ("in the last 30 days"): bounds that cut into it would
  // make that sentence false (a 3-day total called a 30-day one). Wider bounds are harmless.
  const cut =
    body.since !== undefined && asked.since !== null && Date.parse(body.since) > Date.parse(asked.since) + CUT_TOLERANCE_MS
      ? "since"
      : body.until !== undefined && asked.until !== null && Date.parse(body.until) < Date.parse(asked.until) - CUT_TOLERANCE_MS
        ? "until"
        : null;
  if (cut !== null) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `The question asks about ${asked.since} to ${asked.until}; since and until may widen that window but not cut into it.`,
      {
        errors: [
          { path: cut, message: `${cut} cuts into the period the question names; leave it out or ask about the period you mean` },
        ],
      },
    );
  }
  const until = body.until !== undefined ? Date.parse(body.until) : asked.until !== null ? Date.parse(asked.until) : nowMs;
  const since =
    body.since !== undefined
      ? Date.parse(body.since)
      : asked.since !== null
        ? Date.parse(asked.since)
        : until - DEFAULT_WINDOW_MS;
  if (since < 0 || since >= until) {
    throw new DomainError("VALIDATION_FAILED", "The data window is empty.", {
      errors: [{ path: "since", message: "since must be before until" }],
    });
  }
  if (until - since > MAX_WINDOW_MS) {
    throw new DomainError("VALIDATION_FAILED", "The data window may span at most 732 days.", {
      errors: [{ path: "since", message: "since and until may be at most 732 days apart" }],
    });
  }
  return { since, until };
}
