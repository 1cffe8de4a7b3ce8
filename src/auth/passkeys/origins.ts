/**
 * Which page origins a WebAuthn response may come from (WebAuthn L3 §7.1 step 9, §7.2 step 13).
 *
 * Production: the origins in CORS_ORIGINS (the web apps that call the API) plus the origin of
 * JWT_ISSUER (the API's own origin, which serves the web app at /app). Nothing else: a response made
 * on any other page is refused.
 *
 * Development and test (DESIGN §4): additionally any `http://localhost:<port>` and
 * `http://127.0.0.1:<port>`. Browsers only accept the RP ID `localhost` on localhost origins, so
 * a 127.0.0.1 page cannot really run a ceremony; it is accepted here server-side anyway, for
 * scripted clients (e.g. a software authenticator) that talk to 127.0.0.1.
 *
 * @simplewebauthn/server compares origins against a fixed list, so "any port" is decided here:
 * the origin the response claims is checked against this policy first and, if allowed, becomes
 * the one expected origin. The library still verifies the signed client data carries it.
 */
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import type { Config } from "../../config/config";

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

export function isAllowedOrigin(config: Config, origin: string): boolean {
  if (configuredOrigins(config).includes(origin)) return true;
  return config.ENVIRONMENT !== "production" && LOCAL_ORIGIN.test(origin);
}

export function configuredOrigins(config: Config): string[] {
  return [...new Set([...config.CORS_ORIGINS, new URL(config.JWT_ISSUER).origin])];
}

/**
 * The origin to pass as `expectedOrigin`: the claimed one when the policy allows it, otherwise the
 * configured list (which the claimed origin then fails to match, and verification fails).
 */
export function expectedOrigins(config: Config, clientDataJSON: string): string[] {
  const claimed = claimedOrigin(clientDataJSON);
  return claimed !== undefined && isAllowedOrigin(config, claimed) ? [claimed] : configuredOrigins(config);
}

function claimedOrigin(clientDataJSON: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(isoBase64URL.toUTF8String(clientDataJSON));
    if (typeof parsed === "object" && parsed !== null && "origin" in parsed && typeof parsed.origin === "string") {
      return parsed.origin;
    }
  } catch {
    // Unparseable client data fails in the library's own checks.
  }
  return undefined;
}
