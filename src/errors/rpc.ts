import { DomainError, type DomainErrorOptions, type FieldError, isErrorCode } from "./domain-error";

/**
 * Durable Object RPC and domain errors. workerd reports every rejected RPC promise as
 * "Uncaught (in promise)" in the object's isolate, even when the caller handles it, so a NOT_FOUND
 * for a vault id or an invalid cursor would fill production logs with noise that hides real
 * failures. Expected outcomes therefore cross RPC as values: the object returns `RpcOutcome`, the
 * caller's client turns a failure back into the same `DomainError`. Anything unexpected is still
 * thrown, and still logged.
 */
export type RpcOutcome<T> = { ok: true; value: T } | { ok: false; error: SerializedDomainError };

export interface SerializedDomainError {
  code: string;
  detail?: string;
  errors?: FieldError[];
  retryAfterSeconds?: number;
  extensions?: Record<string, unknown>;
}

/** Runs `work` inside a Durable Object method: a DomainError becomes a failed outcome, anything else is rethrown. */
export async function outcomeOf<T>(work: () => T | Promise<T>): Promise<RpcOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const serialized: SerializedDomainError = { code: error.code };
    if (error.detail !== undefined) serialized.detail = error.detail;
    if (error.errors !== undefined) serialized.errors = error.errors;
    if (error.retryAfterSeconds !== undefined) serialized.retryAfterSeconds = error.retryAfterSeconds;
    if (Object.keys(error.extensions).length > 0) serialized.extensions = error.extensions;
    return { ok: false, error: serialized };
  }
}

/** The caller's side: the value, or the DomainError the object meant. */
export function unwrapOutcome<T>(outcome: RpcOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { code, detail, ...rest } = outcome.error;
  if (!isErrorCode(code)) throw new Error(`Durable Object answered an unknown error code ${code}`);
  const options: DomainErrorOptions = {};
  if (rest.errors !== undefined) options.errors = rest.errors;
  if (rest.retryAfterSeconds !== undefined) options.retryAfterSeconds = rest.retryAfterSeconds;
  if (rest.extensions !== undefined) options.extensions = rest.extensions;
  throw new DomainError(code, detail, options);
}
