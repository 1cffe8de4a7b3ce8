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

/**
 * `returnTo`: where the person's app asked to be sent back, for refusals the app should hear of
 * (a declined consent), given only once the flow's browser binding has been checked.
 */
export function refuseFlow(reason: FlowRefusalReason, detail: string, returnTo: string | null = null): never {
  const extensions = returnTo === null ? { reason } : { reason, returnTo };
  throw new DomainError(reason === "cross_site" ? "FORBIDDEN" : "BAD_REQUEST", detail, { extensions });
}

/** The app's `returnTo` a refusal carries, if any. */
export function refusalReturnTo(error: DomainError): string | null {
  const returnTo = error.extensions.returnTo;
  return typeof returnTo === "string" ? returnTo : null;
}

export function refusalReason(error: DomainError): FlowRefusalReason | null {
  const reason = error.extensions.reason;
  return typeof reason === "string" ? (reason as FlowRefusalReason) : null;
}
