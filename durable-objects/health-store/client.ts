import { DomainError } from "../../src/errors/domain-error";
import { type RpcOutcome, unwrapOutcome } from "../../src/errors/rpc";
import { log } from "../../src/observability/log";
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
            return unwrapOutcome(await Reflect.apply(call, stub, args));
          } catch (error) {
            throw isRefusedArgument(error) ? refusedArgument(name, error) : error;
          }
        };
        methods.set(name, method);
      }
      return method;
    },
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
