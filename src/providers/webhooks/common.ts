import type { z } from "zod";
import { base64url, sha256, utf8 } from "./crypto.ts";
import type { Refusal, WebhookProvider } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * How far a signed timestamp may be from our clock, either way. None of the providers here publishes
 * a window, so Pulse uses 5 minutes (the common convention, e.g. Stripe's default tolerance): enough
 * for clock skew and a slow hop, too short to replay a captured delivery usefully. Re-deliveries are
 * re-signed with a fresh timestamp by the schemes that sign one; duplicates are caught by `dedupKey`.
 */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/**
 * Largest body accepted per provider. Notify-only payloads are a few hundred bytes; Google batches up
 * to 99 notifications in one array; Terra pushes whole normalised data payloads (activity samples,
 * sleep stages), which reach megabytes.
 */
export const MAX_BODY_BYTES: Record<WebhookProvider, number> = {
  oura: 64 * 1024,
  whoop: 64 * 1024,
  strava: 64 * 1024,
  withings: 64 * 1024,
  polar: 64 * 1024,
  "google-health": 1024 * 1024,
  terra: 16 * 1024 * 1024,
  sandbox: 64 * 1024,
};

/** A refusal when `signedAtMs` is further than the tolerance from `now`, in either direction. */
export function checkFreshness(
  provider: WebhookProvider,
  signedAtMs: number,
  now: Date,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): Refusal | undefined {
  const skewMs = now.getTime() - signedAtMs;
  if (skewMs > toleranceSeconds * 1000) return refuse(provider, "stale", "The delivery's signed timestamp is too old.");
  if (-skewMs > toleranceSeconds * 1000) return refuse(provider, "stale", "The delivery's signed timestamp is in the future.");
  return undefined;
}

/** Whole seconds or milliseconds since the epoch as a decimal string, without sign or fraction. */
export function parseEpoch(text: string | null | undefined, unit: "s" | "ms"): number | undefined {
  if (!text || !/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return unit === "s" ? value * 1000 : value;
}

/**
 * `provider:` + base64url(SHA-256) of the identifying fields, length-prefixed so that no two field
 * lists can collide by shifting a separator ("a|b" + "c" vs "a" + "b|c").
 */
export async function dedupKey(
  provider: WebhookProvider,
  fields: ReadonlyArray<string | number | null | undefined>,
): Promise<string> {
  const canonical = fields.map((field) => {
    const text = field === null || field === undefined ? "" : String(field);
    return `${text.length}:${text}`;
  });
  return `${provider}:${base64url(await sha256(utf8(canonical.join("|"))))}`;
}

/** Dedup key over the raw bytes, for payloads that carry no event id of their own. */
export async function bodyDedupKey(provider: WebhookProvider, body: Uint8Array): Promise<string> {
  return `${provider}:${base64url(await sha256(body))}`;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export type Parsed<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/** Strict UTF-8, JSON, then the zod shape: any failure is one "malformed" refusal. */
export function parseJsonBody<S extends z.ZodType>(provider: WebhookProvider, body: Uint8Array, schema: S): Parsed<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch {
    return { ok: false, refusal: refuse(provider, "malformed", "The body is not valid UTF-8 JSON.") };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const where = result.error.issues[0]?.path.map(String).join(".") || "(root)";
    return {
      ok: false,
      refusal: refuse(provider, "malformed", `The body does not have the shape the provider documents (at ${where}).`),
    };
  }
  return { ok: true, value: result.data };
}

export function decodeUtf8(body: Uint8Array): string | undefined {
  try {
    return decoder.decode(body);
  } catch {
    return undefined;
  }
}

/** The JSON handshake body for echo-style handshakes (Oura, Strava). */
export function jsonHandshake(status: number, value: Record<string, string>) {
  return { status, body: JSON.stringify(value), contentType: "application/json" };
}

/** Unix seconds → ISO 8601; `undefined` when absent or outside what a Date can hold. */
export function isoFromSeconds(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
