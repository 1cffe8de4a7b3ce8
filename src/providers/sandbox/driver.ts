/**
 * The driver of the sandbox provider: Pulse's local fake provider (tools/sandbox-provider), which
 * speaks OAuth 2.0 with PKCE S256 and rotating refresh tokens, serves a paged data API and signs
 * its webhooks, so the whole connection flow runs offline (DESIGN §7). It is offered only when
 * `ENABLE_SANDBOX_PROVIDER` is true, never in production (./../config.ts).
 *
 * Sandbox API (origin = SANDBOX_PROVIDER_ORIGIN):
 * - `GET /oauth/authorize`, `POST /oauth/token`, `POST /oauth/revoke` (RFC 6749, 7636, 7009).
 * - `GET /v1/me` (Bearer) → `{"user_id": string, "time_zone": string}`.
 */
import { DomainError } from "../../errors/domain-error";
import type { ProviderDriver, ProviderProfile } from "../driver";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";

const facts = PROVIDERS.sandbox;

async function profile(origin: string, accessToken: string): Promise<ProviderProfile> {
  const response = await fetch(new URL("/v1/me", origin), { headers: { Authorization: `Bearer ${accessToken}` } });
  if (!response.ok) throw new DomainError("PROVIDER_FAILED", "The sandbox provider did not answer the profile request.");
  const body = (await response.json()) as { user_id?: unknown; time_zone?: unknown };
  if (typeof body.user_id !== "string")
    throw new DomainError("PROVIDER_FAILED", "The sandbox provider's profile has no user id.");
  return { providerUserId: body.user_id, timeZone: typeof body.time_zone === "string" ? body.time_zone : null };
}

export const sandboxDriver: ProviderDriver = {
  name: "sandbox",
  facts,
  ...oauthMethods(facts),
  profile: (context, accessToken) => profile(context.origin ?? new URL(facts.oauth?.tokenUrl ?? "").origin, accessToken),
  fetchRange() {
    throw new DomainError("INTERNAL", "The sandbox data API driver is not built yet.");
  },
  map() {
    throw new DomainError("INTERNAL", "The sandbox mapping is not built yet.");
  },
};
