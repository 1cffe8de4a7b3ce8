import { isDependencyUnavailable } from "../../src/db/errors";
import { DomainError } from "../../src/errors/domain-error";
import { type RpcOutcome, unwrapOutcome } from "../../src/errors/rpc";
import { errorName, log } from "../../src/observability/log";
import type { HealthStore } from "../health-store";

type RpcMethodName = {
  [K in keyof HealthStore & string]: HealthStore[K] extends (...args: never[]) => Promise<RpcOutcome<unknown>> ? K : never;
}[keyof HealthStore & string];

/**
 * A user's HealthStore as plain async methods: each resolves with the value, or rejects with the
 * DomainError the object returned (src/errors/rpc.ts explains why errors cross RPC as values).
 *
 * One exception: the store re-checks every argument (./validate.ts) and names what it refuses by
 * the argument's own paths (`query.zone.changes.0.at`, `batch.observations.3.value`), names a
 * client never sent. Routes validate their input first, so a refusal here means a value got past
 * them: callers get a generic VALIDATION_FAILED (the store's error as its `cause`), and the paths
 * go to the log for whoever fixes the route.
 */
export type HealthStoreClient = {
  [K in RpcMethodName]: HealthStore[K] extends (...args: infer A) => Promise<RpcOutcome<infer R>>
    ? (...args: A) => Promise<R>
    : never;
} & {
  /** The Durable Object stub itself, for tests that inspect its storage. */
  readonly stub: DurableObjectStub<HealthStore>;
};

/**
 * How long the Worker waits for one HealthStore call. An object's call has no deadline of its own:
 * a store stuck on a promise would hold its caller's request open for as long as the client
 * waits. Past this, the caller gets a 503 and the object keeps running; only that user's requests
 * are affected, as every user has their own object. Generous, because the ingest job's chunk
 * writes and export pages legitimately take seconds on a large store.
 */
export const HEALTH_STORE_DEADLINE_MS = 30_000;

/** Seconds a caller is asked to wait after a HealthStore call failed for a passing reason. */
export const HEALTH_STORE_RETRY_AFTER_SECONDS = 10;

let deadlineMs = HEALTH_STORE_DEADLINE_MS;

/**
 * Changes the deadline of every HealthStore call in this isolate and returns the function that
 * restores the previous one. For tests, which cannot wait 30 s to see a stuck store answered.
 */
export function setHealthStoreDeadline(ms: number): () => void {
  const previous = deadlineMs;
  deadlineMs = ms;
  return () => {
    deadlineMs = previous;
  };
}

/** The one HealthStore of a user (DESIGN §5). Call only after authorizing access to `userId`. */
export function healthStoreFor(namespace: DurableObjectNamespace<HealthStore>, userId: string): HealthStoreClient {
  const stub = namespace.get(namespace.idFromName(userId));
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy({} as HealthStoreClient, {
    get(_target, name) {
      // Not a thenable: `await client` must not look for a `then` method on the object.
      if (typeof name !== "string" || name === "then") return undefined;
      if (name === "stub") return stub;
      let method = methods.get(name);
      if (!method) {
        method = async (...args: unknown[]) => {
          const call = Reflect.get(stub, name) as (...args: unknown[]) => Promise<RpcOutcome<unknown>>;
          try {
            return unwrapOutcome(await withDeadline(name, Reflect.apply(call, stub, args)));
          } catch (error) {
            if (isRefusedArgument(error)) throw refusedArgument(name, error);
            if (!(error instanceof DomainError) && isDependencyUnavailable(error)) throw unavailable(name, error);
            throw error;
          }
        };
        methods.set(name, method);
      }
      return method;
    },
  });
}

async function withDeadline<T>(method: string, call: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      log("warn", "health store call past its deadline", { method, deadlineMs });
      reject(
        new DomainError("SERVICE_UNAVAILABLE", "Your health data store did not answer in time; retry shortly.", {
          retryAfterSeconds: HEALTH_STORE_RETRY_AFTER_SECONDS,
        }),
      );
    }, deadlineMs);
  });
  try {
    return await Promise.race([call, expired]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    // The object may still answer, or fail, after the deadline: nobody is waiting for it any more.
    call.catch(() => undefined);
  }
}

/** An overloaded or briefly unreachable object (the runtime's `overloaded`/`retryable` errors). */
function unavailable(method: string, error: unknown): DomainError {
  log("warn", "health store unavailable", { method, error: errorName(error) });
  return new DomainError("SERVICE_UNAVAILABLE", "Your health data store is briefly unavailable; retry shortly.", {
    retryAfterSeconds: HEALTH_STORE_RETRY_AFTER_SECONDS,
    cause: error,
  });
}

function isRefusedArgument(error: unknown): error is DomainError {
  return error instanceof DomainError && error.code === "VALIDATION_FAILED" && typeof error.extensions.argument === "string";
}

function refusedArgument(method: string, refusal: DomainError): DomainError {
  log("warn", "health store refused an argument", { method, paths: (refusal.errors ?? []).map((issue) => issue.path) });
  return new DomainError("VALIDATION_FAILED", "A value in the request is outside what Pulse can read or store.", {
    cause: refusal,
  });
}
