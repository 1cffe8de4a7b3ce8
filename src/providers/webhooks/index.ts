import { DomainError } from "../../errors/domain-error.ts";
import { MAX_BODY_BYTES } from "./common.ts";
import { verifyGoogleHealth } from "./google-health.ts";
import { verifyOura } from "./oura.ts";
import { verifyPolar } from "./polar.ts";
import { verifySandbox } from "./sandbox.ts";
import { verifyStrava } from "./strava.ts";
import { verifyTerra } from "./terra.ts";
import type { RawWebhookRequest, Refusal, WebhookOutcome, WebhookProvider, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";
import { verifyWhoop } from "./whoop.ts";
import { verifyWithings } from "./withings.ts";

export { DEFAULT_TOLERANCE_SECONDS, MAX_BODY_BYTES } from "./common.ts";
export { verifyHmac } from "./crypto.ts";
export type * from "./types.ts";
export { isWebhookProvider, WEBHOOK_PROVIDERS } from "./types.ts";

/**
 * Verifies one incoming webhook request. Pure apart from WebCrypto: the same request, secrets and
 * `now` always give the same answer. The caller reads the body with a cap of
 * `MAX_BODY_BYTES[provider] + 1` bytes (so "too large" is decided without buffering a flood) and
 * passes the bytes exactly as received.
 *
 * Throws `NOT_FOUND` when this deployment has no secrets for the provider: such a webhook is not
 * one Pulse receives, whoever sent it.
 */
export async function verifyWebhook(
  provider: WebhookProvider,
  request: RawWebhookRequest,
  secrets: WebhookSecrets,
  now: Date,
): Promise<WebhookOutcome> {
  if (request.body.byteLength > MAX_BODY_BYTES[provider]) {
    return refuse(provider, "too_large", `Webhook bodies from this provider are at most ${MAX_BODY_BYTES[provider]} bytes.`);
  }
  switch (provider) {
    case "oura":
      return verifyOura(request, configured(provider, secrets.oura), now);
    case "whoop":
      return verifyWhoop(request, configured(provider, secrets.whoop), now);
    case "terra":
      return verifyTerra(request, configured(provider, secrets.terra), now);
    case "strava":
      return verifyStrava(request, configured(provider, secrets.strava));
    case "withings":
      configured(provider, secrets.withings);
      return verifyWithings(request);
    case "polar":
      return verifyPolar(request, configured(provider, secrets.polar));
    case "google-health":
      return verifyGoogleHealth(request, configured(provider, secrets.googleHealth));
    case "sandbox":
      return verifySandbox(request, configured(provider, secrets.sandbox), now);
  }
}

function configured<T>(provider: WebhookProvider, value: T | undefined): T {
  if (value === undefined) throw new DomainError("NOT_FOUND", `Webhooks from ${provider} are not enabled on this deployment.`);
  return value;
}

/**
 * The error the HTTP layer renders for a refusal. A stale delivery is as unauthenticated as a forged
 * one (its signature no longer proves a fresh send); `reason` tells the two apart for the sender's logs.
 */
export function refusalError(refusal: Refusal): DomainError {
  const extensions = { reason: refusal.reason, provider: refusal.provider };
  switch (refusal.reason) {
    case "unauthenticated":
    case "stale":
      return new DomainError("UNAUTHENTICATED", refusal.detail, { extensions });
    case "malformed":
      return new DomainError("BAD_REQUEST", refusal.detail, { extensions });
    case "too_large":
      return new DomainError("PAYLOAD_TOO_LARGE", refusal.detail, { extensions });
    case "method_not_allowed":
      return new DomainError("METHOD_NOT_ALLOWED", refusal.detail, { extensions });
  }
}
