/**
 * The HTTP side of the error vocabulary (DESIGN §3, RFC 9457): each domain error code's status and
 * title, and the one problem+json body. Domain code throws `DomainError` (src/errors); HTTP
 * middleware that must also set response headers (`WWW-Authenticate`, `Allow`, rate-limit headers)
 * throws `HttpError`. A 500 never carries the original message.
 */
import { DomainError, type DomainErrorOptions, type ErrorCode, type FieldError } from "../errors/domain-error";

export const ERROR_STATUS = {
  VALIDATION_FAILED: { status: 400, title: "Request validation failed" },
  MALFORMED_JSON: { status: 400, title: "Malformed JSON body" },
  BAD_REQUEST: { status: 400, title: "Bad request" },
  UNAUTHENTICATED: { status: 401, title: "Authentication required" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  NOT_FOUND: { status: 404, title: "Not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  // A representation the server cannot produce was asked for (the FHIR API answers JSON only).
  NOT_ACCEPTABLE: { status: 406, title: "Not acceptable" },
  CONFLICT: { status: 409, title: "Conflict" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  UNPROCESSABLE: { status: 422, title: "Unprocessable content" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal server error" },
  ATTESTATION_FAILED: { status: 502, title: "Enclave attestation failed" },
  ENCLAVE_FAILED: { status: 502, title: "Confidential AI failed" },
  SERVICE_UNAVAILABLE: { status: 503, title: "Service unavailable" },
  // A wearable or CGM provider's API failed or refused Pulse (not the caller's request).
  PROVIDER_FAILED: { status: 502, title: "Provider failed" },
  // Sharing needs the current terms and privacy notice accepted and not withdrawn (src/consent/).
  CONSENT_REQUIRED: { status: 403, title: "Consent required" },
} as const satisfies Record<ErrorCode, { status: number; title: string }>;

/** A domain error that also sets response headers; thrown only by HTTP middleware and routes. */
export class HttpError extends DomainError {
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail?: string, options: DomainErrorOptions & { headers?: Record<string, string> } = {}) {
    super(code, detail, options);
    this.name = "HttpError";
    this.headers = options.headers ?? {};
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

function statusOf(error: DomainError): number {
  return ERROR_STATUS[error.code].status;
}

function problemDocument(error: DomainError, instance: string, requestId: string): ProblemDocument {
  const { status, title } = ERROR_STATUS[error.code];
  const doc: ProblemDocument = {
    ...error.extensions,
    type: `${PROBLEM_TYPE_BASE}${error.code.toLowerCase().replaceAll("_", "-")}`,
    title,
    status,
    detail: error.detail ?? title,
    instance,
    code: error.code,
    requestId,
  };
  if (error.errors && error.errors.length > 0) doc.errors = error.errors;
  return doc;
}

/** Renders a domain error as an `application/problem+json` response. */
export function problemResponse(error: DomainError, instance: string, requestId: string): Response {
  const headers = new Headers(error instanceof HttpError ? error.headers : {});
  if (error.retryAfterSeconds !== undefined && !headers.has("Retry-After")) {
    headers.set("Retry-After", String(Math.max(0, Math.ceil(error.retryAfterSeconds))));
  }
  if (error.code === "UNAUTHENTICATED" && !headers.has("WWW-Authenticate")) {
    // RFC 9110 §15.5.2: a 401 names the scheme the client should use.
    headers.set("WWW-Authenticate", 'Bearer realm="pulse"');
  }
  headers.set("Content-Type", "application/problem+json");
  headers.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(problemDocument(error, instance, requestId)), {
    status: statusOf(error),
    headers,
  });
}
