/**
 * Signed "new data arrived" webhooks, in a Terra-like scheme that Pulse verifies in
 * src/providers/webhooks/sandbox.ts:
 *
 *   POST <webhookUrl>
 *   sandbox-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(signing secret, t + "." + raw body)>
 *   {"event_id": "<uuid>", "user_id": "sbx_…", "data_type": "all" | "<type>", "start": ISO, "end": ISO}
 *
 * Notify-only: the body says whose data changed and when, never a value; the receiver fetches.
 */

export interface WebhookDelivery {
  url: string | null;
  method: "POST";
  headers: Record<string, string>;
  /** The exact bytes signed, as text: deliver it unchanged or the signature no longer matches. */
  body: string;
}

export interface DeliveryResult {
  delivery: WebhookDelivery;
  /** What the receiver answered; null when no `webhookUrl` is configured. */
  receiver: { status: number } | { error: string } | null;
}

export async function signWebhook(secret: string, body: string, nowMs: number): Promise<string> {
  const t = Math.floor(nowMs / 1000);
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${body}`)));
  return `t=${t},v1=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export async function buildDelivery(
  secret: string,
  url: string | null,
  event: { userId: string; dataType: string; start: number; end: number },
  nowMs: number,
): Promise<WebhookDelivery> {
  const body = JSON.stringify({
    event_id: crypto.randomUUID(),
    user_id: event.userId,
    data_type: event.dataType,
    start: new Date(event.start).toISOString(),
    end: new Date(event.end).toISOString(),
  });
  return {
    url,
    method: "POST",
    headers: { "content-type": "application/json", "sandbox-signature": await signWebhook(secret, body, nowMs) },
    body,
  };
}

/** Sends the delivery once (no retries: the push route reports the outcome, and can be called again). */
export async function deliver(delivery: WebhookDelivery): Promise<DeliveryResult["receiver"]> {
  if (delivery.url === null) return null;
  try {
    const response = await fetch(delivery.url, {
      method: delivery.method,
      headers: delivery.headers,
      body: delivery.body,
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    return { error: error instanceof Error ? error.message : "delivery failed" };
  }
}
