import { checkFreshness, parseEpoch } from "./common.ts";
import { concatBytes, decodeHex, utf8, verifyHmac } from "./crypto.ts";
import type { RawWebhookRequest, Refusal, WebhookProvider } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * The `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>` signature header that
 * Terra uses (and the sandbox provider copies): checked over the raw bytes, any of several `v1`
 * entries may match (secret rotation), and the signed time must be within the tolerance. Answers
 * the signed instant, or the refusal to return.
 */
export async function verifyTimestampedHmac(
  provider: WebhookProvider,
  request: RawWebhookRequest,
  headerName: string,
  secret: string,
  now: Date,
): Promise<{ signedAtMs: number } | Refusal> {
  if (request.method !== "POST") return refuse(provider, "method_not_allowed", `${provider} webhooks are POST.`);
  const header = request.headers.get(headerName);
  if (!header) return refuse(provider, "unauthenticated", `The ${headerName} header is required.`);
  const { timestamp, signatures } = parseSignatureHeader(header);
  if (timestamp === undefined || signatures.length === 0)
    return refuse(provider, "unauthenticated", `${headerName} must carry t= and v1=.`);

  const message = concatBytes(utf8(`${timestamp}.`), request.body);
  let signed = false;
  for (const candidate of signatures) {
    const bytes = decodeHex(candidate);
    // Every candidate is checked, so the time taken does not tell which entry matched.
    if (bytes && (await verifyHmac("SHA-256", secret, message, bytes))) signed = true;
  }
  if (!signed) return refuse(provider, "unauthenticated", `The ${headerName} does not match the body.`);

  const signedAtMs = parseEpoch(timestamp, "s");
  if (signedAtMs === undefined) return refuse(provider, "malformed", `${headerName} t= is not a Unix time in seconds.`);
  return checkFreshness(provider, signedAtMs, now) ?? { signedAtMs };
}

function parseSignatureHeader(header: string): { timestamp: string | undefined; signatures: string[] } {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    const key = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (key === "t") timestamp = value;
    else if (key === "v1") signatures.push(value);
  }
  return { timestamp, signatures };
}
