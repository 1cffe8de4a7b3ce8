/**
 * The one error vocabulary of Pulse (STYLE "Errors"). Domain code — the data layer, the audit
 * chains, the HealthStore, every domain module — throws a `DomainError` with a code from the closed
 * list below and knows nothing of HTTP. Only `src/http` turns a code into a status and an RFC 9457
 * problem document, so the same error reads the same whether it was thrown in the Worker or came
 * back from a Durable Object over RPC.
 */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "MALFORMED_JSON",
  "BAD_REQUEST",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "NOT_ACCEPTABLE",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNPROCESSABLE",
  "RATE_LIMITED",
  "INTERNAL",
  "ATTESTATION_FAILED",
  "ENCLAVE_FAILED",
  "SERVICE_UNAVAILABLE",
  "PROVIDER_FAILED",
  "CONSENT_REQUIRED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export interface DomainErrorOptions {
  /** Every invalid field with its path, not only the first. */
  errors?: FieldError[];
  /** When trying again can succeed: after this many seconds. */
  retryAfterSeconds?: number;
  /** Further facts for the caller, e.g. `reason` of a refused attestation (problem extension members). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** A sentence for the caller; undefined leaves the code's generic title. Never internal detail. */
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, options: DomainErrorOptions = {}) {
    super(detail ?? code, { cause: options.cause });
    this.name = "DomainError";
    this.code = code;
    this.detail = detail;
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.extensions = options.extensions ?? {};
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code);
}

/**
 * Turns zod issues into the `errors` array: every issue with its path, not only the first. An
 * unknown key is reported under its own name (`metric`), not its parent's, so a client sees which
 * parameter it sent that is not one.
 */
export function fieldErrors(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string; keys?: readonly string[] }>,
): FieldError[] {
  const pathOf = (path: ReadonlyArray<PropertyKey>) => (path.length > 0 ? path.map(String).join(".") : "(root)");
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys" && issue.keys && issue.keys.length > 0
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: "not a known field or parameter" }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/** Codes that mean the service, not the request, failed: trying the same thing again may succeed. */
const SERVICE_FAILURES: ReadonlySet<ErrorCode> = new Set([
  "INTERNAL",
  "ATTESTATION_FAILED",
  "ENCLAVE_FAILED",
  "SERVICE_UNAVAILABLE",
  "PROVIDER_FAILED",
]);

/** The request or its data is at fault: repeating it unchanged fails the same way. */
export function isCallerError(code: ErrorCode): boolean {
  return !SERVICE_FAILURES.has(code);
}
