import { reviveAppError } from "../../src/http/errors";
import type { HealthStore } from "../health-store";

/** The one HealthStore of a user (DESIGN §5). Call only after authorizing access to `userId`. */
export function healthStoreFor(namespace: DurableObjectNamespace<HealthStore>, userId: string): DurableObjectStub<HealthStore> {
  return namespace.get(namespace.idFromName(userId));
}

/** Use as `stub.method(...).catch(rethrowStoreError)` to keep a Durable Object's AppError an AppError. */
export function rethrowStoreError(error: unknown): never {
  throw reviveAppError(error);
}
