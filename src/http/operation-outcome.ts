/**
 * Errors of the FHIR API (`/v1/fhir/*`) as FHIR clients expect them: an `OperationOutcome`
 * resource in `application/fhir+json`, with the same HTTP status, headers and words as the
 * problem+json answer every other route gives (src/http/errors.ts). The request id and Pulse's
 * error code ride along in `diagnostics`, so support can still find the request.
 *
 * Issue types are from the FHIR R4 value set http://hl7.org/fhir/ValueSet/issue-type.
 */
import type { OperationOutcome, OperationOutcomeIssue } from "@medplum/fhirtypes";
import type { DomainError, ErrorCode } from "../errors/domain-error";
import { ERROR_STATUS, HttpError } from "./errors";

export const FHIR_JSON = "application/fhir+json";
/** The Content-Type of every FHIR answer, errors included. */
export const FHIR_JSON_UTF8 = `${FHIR_JSON}; charset=utf-8`;
export const FHIR_PATH_PREFIX = "/v1/fhir";

/** True for `/v1/fhir` and everything under it: the paths whose errors are OperationOutcomes. */
export function isFhirPath(path: string): boolean {
  return path === FHIR_PATH_PREFIX || path.startsWith(`${FHIR_PATH_PREFIX}/`);
}

const ISSUE_TYPE: Record<ErrorCode, OperationOutcomeIssue["code"]> = {
  VALIDATION_FAILED: "invalid",
  MALFORMED_JSON: "structure",
  BAD_REQUEST: "invalid",
  UNAUTHENTICATED: "login",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not-found",
  METHOD_NOT_ALLOWED: "not-supported",
  NOT_ACCEPTABLE: "not-supported",
  CONFLICT: "conflict",
  PAYLOAD_TOO_LARGE: "too-long",
  UNSUPPORTED_MEDIA_TYPE: "not-supported",
  UNPROCESSABLE: "processing",
  RATE_LIMITED: "throttled",
  INTERNAL: "exception",
  ATTESTATION_FAILED: "security",
  ENCLAVE_FAILED: "exception",
  SERVICE_UNAVAILABLE: "transient",
  PROVIDER_FAILED: "transient",
  CONSENT_REQUIRED: "security",
};

/** The OperationOutcome of a domain error: one issue for the error, one more per invalid field. */
export function operationOutcome(error: DomainError, requestId: string): OperationOutcome {
  const { title } = ERROR_STATUS[error.code];
  const code = ISSUE_TYPE[error.code];
  const issues: OperationOutcomeIssue[] = [
    {
      severity: error.code === "INTERNAL" ? "fatal" : "error",
      code,
      details: { text: error.detail ?? title },
      diagnostics: `${error.code}; requestId ${requestId}`,
    },
  ];
  for (const field of error.errors ?? []) {
    issues.push({ severity: "error", code, details: { text: field.message }, expression: [field.path] });
  }
  return { resourceType: "OperationOutcome", issue: issues };
}

/** Renders a domain error as an OperationOutcome response, with the headers problemResponse sets. */
export function operationOutcomeResponse(error: DomainError, requestId: string): Response {
  const headers = new Headers(error instanceof HttpError ? error.headers : {});
  if (error.retryAfterSeconds !== undefined && !headers.has("Retry-After")) {
    headers.set("Retry-After", String(Math.max(0, Math.ceil(error.retryAfterSeconds))));
  }
  if (error.code === "UNAUTHENTICATED" && !headers.has("WWW-Authenticate")) {
    headers.set("WWW-Authenticate", 'Bearer realm="pulse"');
  }
  headers.set("Content-Type", FHIR_JSON_UTF8);
  headers.set("Cache-Control", "no-store");
  return new Response(JSON.stringify(operationOutcome(error, requestId)), {
    status: ERROR_STATUS[error.code].status,
    headers,
  });
}
