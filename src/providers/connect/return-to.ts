/**
 * Where a person may be sent after connecting: an absolute http(s) URL on one of the configured
 * origins (`ProvidersConfig.returnToOrigins`: the API's own, CORS_ORIGINS, APP_REDIRECT_URIS).
 * Anything else would make the callback an open redirect (RFC 9700 §4.11), so it is refused when
 * the flow starts, never discovered at the callback.
 *
 * Origins are compared after WHATWG URL parsing, the way the browser will follow the redirect:
 * `https://app.example@evil.example` is evil.example, `//evil.example` is not absolute,
 * `https:\\evil.example` is evil.example. Userinfo is refused outright.
 */
import { DomainError } from "../../errors/domain-error";

const MAX_LENGTH = 2048;

function refuse(message: string): never {
  throw new DomainError("VALIDATION_FAILED", "returnTo must be a URL of an application allowed to receive people back.", {
    errors: [{ path: "returnTo", message }],
  });
}

/** The URL to redirect to, normalized; VALIDATION_FAILED (path `returnTo`) when not allowed. */
export function checkReturnTo(value: string, allowedOrigins: readonly string[]): string {
  if (value.length > MAX_LENGTH) refuse(`must be at most ${MAX_LENGTH} characters`);
  if (!URL.canParse(value)) refuse("must be an absolute URL");
  const url = new URL(value);
  if (url.protocol !== "https:" && url.protocol !== "http:") refuse("must be an http or https URL");
  if (url.username !== "" || url.password !== "") refuse("must not carry a user name or password");
  if (!allowedOrigins.includes(url.origin)) refuse("must be on an origin this deployment allows (APP_REDIRECT_URIS)");
  return url.toString();
}

/** `returnTo` with `connected=<provider>` (or `error=<code>`) added to its query. */
export function withOutcome(returnTo: string, name: "connected" | "error", value: string): string {
  const url = new URL(returnTo);
  url.searchParams.set(name, value);
  return url.toString();
}
