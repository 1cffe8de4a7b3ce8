import { AppError, reviveAppError } from "../../src/http/errors";
import type { HealthStore } from "../health-store";

/** The one HealthStore of a user (DESIGN §5). Call only after authorizing access to `userId`. */
export function healthStoreFor(namespace: DurableObjectNamespace<HealthStore>, userId: string): DurableObjectStub<HealthStore> {
  return namespace.get(namespace.idFromName(userId));
}

/**
 * Use as `stub.method(...).catch(rethrowStoreError)` to keep a Durable Object's AppError an AppError.
 *
 * The store re-checks every RPC argument (./validate.ts) and names what it refuses by the argument's
 * own paths (`query.zone.changes.0.at`, `batch.observations.3.value`): names a client never sent.
 * Routes validate their input first, so a refusal here means a value got past them; the caller gets
 * a generic 400 without those paths, and the paths go to the log for whoever fixes the route.
 */
export function rethrowStoreError(error: unknown): never {
  const revived = reviveAppError(error);
  if (revived instanceof AppError && revived.code === "VALIDATION_FAILED") {
    console.warn(
      JSON.stringify({
        level: "warn",
        msg: "health store refused an argument",
        at: new Date().toISOString(),
        paths: (revived.errors ?? []).map((issue) => issue.path),
      }),
    );
    throw new AppError("VALIDATION_FAILED", "A value in the request is outside what Pulse can read or store.", {
      cause: revived,
    });
  }
  throw revived;
}
