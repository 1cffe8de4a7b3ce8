/**
 * A job that cannot proceed yet and knows when to look again (another worker holds a lock, a
 * provider's rate limit resets). The queue consumer (./consumer.ts) retries the message after
 * exactly this delay instead of its backoff, and logs a deferral rather than a failure. A module of
 * its own so jobs can throw it without importing the consumer, which imports the jobs.
 */
export class RetryLater extends Error {
  readonly delaySeconds: number;

  constructor(reason: string, delaySeconds: number) {
    super(reason);
    this.name = "RetryLater";
    this.delaySeconds = delaySeconds;
  }
}
