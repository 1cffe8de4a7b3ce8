/**
 * Why a browser step of the flow (confirmation page, callback) was refused. These reach people,
 * not programs: the routes render them as pages (../pages.ts) saying what to do next.
 */
import { DomainError } from "../../errors/domain-error";

export type FlowRefusalReason =
  /** Unknown, expired or already used `state`/`flow`. */
  | "unknown_flow"
  /** A flow for another provider than the path names. */
  | "wrong_provider"
  /** The callback arrived in a browser that did not confirm the flow (no or another cookie). */
  | "other_browser"
  /** The confirmation form was posted from another site. */
  | "cross_site"
  /** The provider's redirect carried neither a code nor an error. */
  | "malformed_callback"
  /** The person declined at the provider (`error=access_denied`, RFC 6749 §4.1.2.1). */
  | "declined";

export function refuseFlow(reason: FlowRefusalReason, detail: string): never {
  throw new DomainError(reason === "cross_site" ? "FORBIDDEN" : "BAD_REQUEST", detail, { extensions: { reason } });
}

export function refusalReason(error: DomainError): FlowRefusalReason | null {
  const reason = error.extensions.reason;
  return typeof reason === "string" ? (reason as FlowRefusalReason) : null;
}
