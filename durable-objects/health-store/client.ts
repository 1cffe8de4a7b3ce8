import { type RpcOutcome, unwrapOutcome } from "../../src/errors/rpc";
import type { HealthStore } from "../health-store";

type RpcMethodName = {
  [K in keyof HealthStore & string]: HealthStore[K] extends (...args: never[]) => Promise<RpcOutcome<unknown>> ? K : never;
}[keyof HealthStore & string];

/**
 * A user's HealthStore as plain async methods: each resolves with the value, or rejects with the
 * same DomainError the object returned (src/errors/rpc.ts explains why errors cross RPC as values).
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
          return unwrapOutcome(await Reflect.apply(call, stub, args));
        };
        methods.set(name, method);
      }
      return method;
    },
  });
}
