/**
 * One error vocabulary for the whole API (DESIGN §3, RFC 9457).
 *
 * Domain code throws `AppError` with a code from the closed set below; only `problem()` and the
 * app's error handler turn it into HTTP. A 500 never carries the original message: unexpected
 * errors are logged with the request id and answered with a generic detail.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, title: "Request validation failed" },
  MALFORMED_JSON: { status: 400, title: "Malformed JSON body" },
  BAD_REQUEST: { status: 400, title: "Bad request" },
  UNAUTHENTICATED: { status: 401, title: "Authentication required" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  CONFLICT: { status: 409, title: "Conflict" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  UNPROCESSABLE: { status: 422, title: "Unprocessable content" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal server error" },
  ATTESTATION_FAILED: { status: 502, title: "Enclave attestation failed" },
  ENCLAVE_FAILED: { status: 502, title: "Confidential AI failed" },
  SERVICE_UNAVAILABLE: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  /** RFC 9457 extension members, e.g. `checks` on a failed health probe. */
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.detail = detail ?? ERROR_CODES[code].title;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

const PROBLEM_TYPE_BASE = "https://pulse.health/problems/";

export function problemDocument(error: AppError, instance: string, requestId: string): ProblemDocument {
  const { status, title } = ERROR_CODES[error.code];
  const doc: ProblemDocument = {
    ...error.extensions,
    type: `${PROBLEM_TYPE_BASE}${error.code.toLowerCase().replaceAll("_", "-")}`,
    title,
    status,
    detail: error.detail,
    instance,
    code: error.code,
    requestId,
  };
  if (error.errors && error.errors.length > 0) doc.errors = error.errors;
  return doc;
}

/** Renders an AppError as an `application/problem+json` response. */
export function problemResponse(error: AppError, instance: string, requestId: string): Response {
  const headers = new Headers(error.headers);
  headers.set("Content-Type", "application/problem+json");
  headers.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(problemDocument(error, instance, requestId)), {
    status: error.status,
    headers,
  });
}

/** Turns zod issues into the `errors` array: every issue with its path, not only the first. */
export function fieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): FieldError[] {
  return issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)",
    message: issue.message,
  }));
}

/**
 * An AppError thrown inside a Durable Object (or any RPC target) reaches the caller as a plain `Error` that keeps its
 * name and own properties (`code`, `detail`, `errors`) but not its class. This turns it back into
 * an AppError so the HTTP layer answers with the intended problem document; anything else is
 * returned unchanged.
 */
export function reviveAppError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof AppError || error.name !== "AppError") return error;
  const code = "code" in error ? error.code : undefined;
  const detail = "detail" in error ? error.detail : undefined;
  const errors = "errors" in error ? error.errors : undefined;
  if (typeof code !== "string" || !isErrorCode(code)) return error;
  return new AppError(code, typeof detail === "string" ? detail : undefined, {
    ...(isFieldErrors(errors) ? { errors } : {}),
    cause: error,
  });
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

function isFieldErrors(value: unknown): value is FieldError[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item: unknown) =>
        typeof item === "object" &&
        item !== null &&
        "path" in item &&
        typeof item.path === "string" &&
        "message" in item &&
        typeof item.message === "string",
    )
  );
}
