/**
 * The queue consumer (DESIGN §1, §6, §7). Every message is a JSON envelope `{type, ...}`; each
 * queue has a registry of job handlers keyed by `type`, each with a zod schema for its body.
 *
 * - A message is acked or retried explicitly, one by one (STYLE: Durable Objects and Queues).
 * - A handler that throws is retried with exponential backoff; after the queue's `max_retries`
 *   Cloudflare moves it to the dead-letter queue.
 * - A handler that knows when to try again throws `RetryLater`, or a `DomainError` carrying
 *   `retryAfterSeconds` (a provider's 429 `Retry-After`): the message is retried after exactly that
 *   delay (capped at the 12 hours Queues allows) and logged as a deferral, not a failure. Queues
 *   counts every retry toward `max_retries` whatever its cause, so a provider that keeps refusing
 *   still ends in the dead-letter queue rather than looping forever.
 * - A message no handler can ever process (bad envelope, unknown type, body failing its schema)
 *   is not retried: it is kept in R2 under `dead-letters/` and acked, so nothing is lost and the
 *   queue is not clogged.
 * - On a queue of `BATCHED_QUEUES` (webhook deliveries), a job with `runBatch` gets all its messages of
 *   the batch at once; if that throws, none is acked and each is run alone, acked or retried by itself.
 * - Messages arriving on a dead-letter queue are kept in R2 the same way and acked; a type may add
 *   a dead-letter handler (e.g. `upload.ingest` marks its upload failed). If that handler fails the
 *   dead letter is retried, so the consequence is not lost either.
 */
import { z } from "zod";
import { accountDeleteJob } from "../deletion/job";
import { DomainError } from "../errors/domain-error";
import { exportBuildJob, failDeadLetteredExport } from "../exports/build-job";
import { narrativeRefreshJob } from "../narratives/refresh";
import { errorName, log } from "../observability/log";
import { failDeadLetteredProviderJob, providerRefreshJob, providerSyncJob } from "../providers/sync/jobs";
import { keepDeadLetteredWebhook, providerWebhookJob } from "../providers/webhooks/process-event";
import { rawUploadRetentionJob } from "../retention/raw-uploads";
import { failDeadLetteredUpload, uploadIngestJob } from "../uploads/ingest-job";
import { RetryLater } from "./retry-later";

export interface JobContext {
  env: Env;
  ctx: ExecutionContext;
  messageId: string;
  attempts: number;
}

export interface Job<T> {
  schema: z.ZodType<T>;
  run(body: T, context: JobContext): Promise<void>;
  /**
   * The whole batch's messages of this type at once, on a queue of `BATCHED_QUEUES`: all acked when
   * it returns; when it throws, each message is run alone (`run`) and acked or retried by itself.
   */
  runBatch?(bodies: T[], context: BatchJobContext): Promise<void>;
}

export interface BatchJobContext {
  env: Env;
  ctx: ExecutionContext;
}

/** Keeps the body type of a job tied to its schema when building a registry. */
export function defineJob<T>(job: Job<T>): Job<unknown> {
  return job as unknown as Job<unknown>;
}

export type JobRegistry = Readonly<Record<string, Job<unknown>>>;

export const QUEUES = {
  ingest: "pulse-ingest",
  sync: "pulse-sync",
  ingestDlq: "pulse-ingest-dlq",
  syncDlq: "pulse-sync-dlq",
  webhooks: "pulse-webhooks",
  webhooksDlq: "pulse-webhooks-dlq",
} as const;

/**
 * Queues whose jobs take a batch at once (`Job.runBatch`): webhook deliveries, many small messages
 * whose per-message D1 round trips were the job's whole cost (docs/benchmarks.md "Provider
 * webhooks"). Every other queue keeps one message at a time.
 */
export const BATCHED_QUEUES: ReadonlySet<string> = new Set([QUEUES.webhooks]);

/** Job registries per queue; domains add their jobs here as they land. */
export const defaultRegistries: Readonly<Record<string, JobRegistry>> = {
  [QUEUES.ingest]: {
    "upload.ingest": defineJob(uploadIngestJob),
    // Deliveries queued on INGEST before webhooks had a queue of their own still drain from it.
    "provider.webhook": defineJob(providerWebhookJob),
  },
  [QUEUES.webhooks]: { "provider.webhook": defineJob(providerWebhookJob) },
  [QUEUES.sync]: {
    "provider.sync": defineJob(providerSyncJob),
    "provider.refresh": defineJob(providerRefreshJob),
    // The raw-upload retention pass continued when the daily cron's pass hit its bound.
    "retention.raw_uploads": defineJob(rawUploadRetentionJob),
    "account.delete": defineJob(accountDeleteJob),
    "export.build": defineJob(exportBuildJob),
    // Stale narratives regenerated after new data (debounced by the HealthStore).
    "narratives.refresh": defineJob(narrativeRefreshJob),
  },
};

/** What happens to a message of a given type when it dies, besides being kept in R2. */
export type DeadLetterHandler = (env: Env, body: unknown) => Promise<void>;

export const defaultDeadLetterHandlers: Readonly<Record<string, DeadLetterHandler>> = {
  "upload.ingest": failDeadLetteredUpload,
  "provider.sync": failDeadLetteredProviderJob,
  "provider.refresh": failDeadLetteredProviderJob,
  "provider.webhook": keepDeadLetteredWebhook,
  "export.build": failDeadLetteredExport,
};

/** Queues' longest retry delay (Cloudflare Queues limits: 12 hours). */
export const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60;

/** The delay a job asked for, or null when the failure takes the ordinary backoff. */
export function requestedDelaySeconds(error: unknown): number | null {
  const seconds =
    error instanceof RetryLater ? error.delaySeconds : error instanceof DomainError ? error.retryAfterSeconds : undefined;
  if (seconds === undefined || !Number.isFinite(seconds)) return null;
  return Math.min(MAX_RETRY_DELAY_SECONDS, Math.max(1, Math.ceil(seconds)));
}

const envelopeSchema = z.object({ type: z.string().min(1).max(100) }).loose();

const MAX_BACKOFF_SECONDS = 15 * 60;

/** 10 s, 20 s, 40 s, … capped at 15 minutes. */
export function backoffSeconds(attempts: number): number {
  return Math.min(MAX_BACKOFF_SECONDS, 10 * 2 ** Math.max(0, attempts - 1));
}

function deadLetterKey(queue: string, message: Message): string {
  const day = new Date(message.timestamp).toISOString().slice(0, 10);
  return `dead-letters/${queue}/${day}/${message.id}.json`;
}

async function keepDeadLetter(env: Env, queue: string, message: Message, reason: string): Promise<void> {
  const record = {
    queue,
    messageId: message.id,
    enqueuedAt: new Date(message.timestamp).toISOString(),
    attempts: message.attempts,
    reason,
    body: message.body,
  };
  await env.LAKE.put(deadLetterKey(queue, message), JSON.stringify(record), {
    httpMetadata: { contentType: "application/json" },
    customMetadata: { queue, reason },
  });
}

export async function handleQueueBatch(
  batch: MessageBatch,
  env: Env,
  ctx: ExecutionContext,
  registries: Readonly<Record<string, JobRegistry>> = defaultRegistries,
  deadLetterHandlers: Readonly<Record<string, DeadLetterHandler>> = defaultDeadLetterHandlers,
): Promise<void> {
  const isDeadLetterQueue = batch.queue.endsWith("-dlq");
  const registry = registries[batch.queue];
  const batched = BATCHED_QUEUES.has(batch.queue);
  const groups = new Map<Job<unknown>, { message: Message; body: unknown; type: string }[]>();

  for (const message of batch.messages) {
    if (isDeadLetterQueue || !registry) {
      const reason = isDeadLetterQueue ? "retries exhausted" : "no consumer for queue";
      await keepDeadLetter(env, batch.queue, message, reason);
      log("error", "dead letter kept", { queue: batch.queue, messageId: message.id, reason });
      const type = envelopeSchema.safeParse(message.body);
      const onDeath = isDeadLetterQueue && type.success ? deadLetterHandlers[type.data.type] : undefined;
      try {
        await onDeath?.(env, message.body);
      } catch (error) {
        log("error", "dead-letter handler failed; retrying", {
          queue: batch.queue,
          messageId: message.id,
          error: errorName(error),
        });
        message.retry({ delaySeconds: backoffSeconds(message.attempts) });
        continue;
      }
      message.ack();
      continue;
    }

    const envelope = envelopeSchema.safeParse(message.body);
    const job = envelope.success ? registry[envelope.data.type] : undefined;
    const parsed = job?.schema.safeParse(message.body);
    if (!job || !parsed?.success) {
      const reason = !envelope.success ? "invalid envelope" : !job ? "unknown message type" : "invalid message body";
      await keepDeadLetter(env, batch.queue, message, reason);
      log("error", "unprocessable message kept", {
        queue: batch.queue,
        messageId: message.id,
        type: envelope.success ? envelope.data.type : null,
        reason,
      });
      message.ack();
      continue;
    }

    const type = envelope.data?.type ?? "";
    if (batched && job.runBatch) {
      const group = groups.get(job) ?? [];
      group.push({ message, body: parsed.data, type });
      groups.set(job, group);
      continue;
    }
    await runOne(job, parsed.data, message, batch.queue, type, env, ctx);
  }

  for (const [job, group] of groups) {
    try {
      await job.runBatch?.(
        group.map((item) => item.body),
        { env, ctx },
      );
      for (const item of group) item.message.ack();
    } catch (error) {
      // Nothing of a failed batch is acked: each message is tried alone, so one that cannot be
      // processed does not hold the others back, and retried by itself if it fails again.
      log("warn", "batch job failed; running its messages one by one", {
        queue: batch.queue,
        messages: group.length,
        error: errorName(error),
      });
      for (const item of group) await runOne(job, item.body, item.message, batch.queue, item.type, env, ctx);
    }
  }
}

/** Runs one message's job, then acks it or retries it (after the delay it asked for, else with backoff). */
async function runOne(
  job: Job<unknown>,
  body: unknown,
  message: Message,
  queue: string,
  type: string,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  try {
    await job.run(body, { env, ctx, messageId: message.id, attempts: message.attempts });
    message.ack();
  } catch (error) {
    const requested = requestedDelaySeconds(error);
    if (requested !== null) {
      log("info", "job deferred", {
        queue,
        messageId: message.id,
        type,
        attempts: message.attempts,
        delaySeconds: requested,
        reason: errorName(error),
      });
      message.retry({ delaySeconds: requested });
      return;
    }
    const delaySeconds = backoffSeconds(message.attempts);
    log("warn", "job failed; retrying", {
      queue,
      messageId: message.id,
      type,
      attempts: message.attempts,
      delaySeconds,
      error: errorName(error),
    });
    message.retry({ delaySeconds });
  }
}
