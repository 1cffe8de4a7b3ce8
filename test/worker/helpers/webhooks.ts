/**
 * Shared pieces of the webhook route and job tests: the published vectors (parsed from the
 * TEST_PROVIDER_VECTORS binding), request signing for bodies the vectors lack, a queue that records
 * what is sent, and connected provider accounts.
 */
import { env } from "cloudflare:workers";
import { z } from "zod";
import type { AuditContext } from "../../../src/audit/event";
import { getDb } from "../../../src/db/client";
import { saveConnection } from "../../../src/providers/connections";
import type { ProviderName } from "../../../src/providers/registry";
import { importTokenKeys } from "../../../src/providers/tokens";
import {
  ledgerShardOfEvent,
  loadWebhookEvents,
  type WebhookEventRow,
  webhookEventsAbout,
} from "../../../src/providers/webhooks/events";
import type { VerifiedDelivery } from "../../../src/providers/webhooks/types";
import { createUser } from "../../../src/users/users";

export const vectors = z
  .object({
    terra: z.object({ secret: z.string(), rawBody: z.string(), headers: z.object({ "terra-signature": z.string() }) }),
    oura: z.object({
      secret: z.string(),
      rawBody: z.string(),
      headers: z.object({ "x-oura-timestamp": z.string(), "x-oura-signature": z.string() }),
    }),
    whoop: z.object({
      secret: z.string(),
      rawBody: z.string(),
      headers: z.object({ "X-WHOOP-Signature-Timestamp": z.string(), "X-WHOOP-Signature": z.string() }),
    }),
    strava: z.object({
      rawBody: z.string(),
      handshake: z.object({ request: z.string(), response: z.object({ "hub.challenge": z.string() }) }),
      deauth: z.record(z.string(), z.unknown()),
    }),
    withings: z.object({ contentType: z.string(), rawBody: z.string() }),
  })
  .parse(env.TEST_PROVIDER_VECTORS);

/** The settings vitest.config.ts passes in PROVIDER_CREDENTIALS besides the vectors' secrets. */
export const OURA_VERIFICATION_TOKEN = "oura-verification-token";
export const STRAVA_VERIFY_TOKEN = "STRAVA";
export const POLAR_SECRET = "polar_test_signature_secret_key";
export const GOOGLE_AUTHORIZATION = "Bearer google-subscriber-secret";

/** When each signed vector was signed (ms). */
export const SIGNED_AT = {
  oura: Number(vectors.oura.headers["x-oura-timestamp"]) * 1000,
  whoop: Number(vectors.whoop.headers["X-WHOOP-Signature-Timestamp"]),
  terra: Number(/t=(\d+)/.exec(vectors.terra.headers["terra-signature"])?.[1]) * 1000,
};

const encoder = new TextEncoder();

async function hmac(secret: string, message: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

export const hex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** Oura headers for `body` signed at `seconds` (x-oura-signature: upper-case hex HMAC over timestamp + body). */
export async function ouraHeaders(body: string, seconds: number): Promise<Record<string, string>> {
  const signature = hex(await hmac(vectors.oura.secret, `${seconds}${body}`)).toUpperCase();
  return { "Content-Type": "application/json", "x-oura-timestamp": String(seconds), "x-oura-signature": signature };
}

export async function whoopHeaders(body: string, ms: number): Promise<Record<string, string>> {
  const signature = base64(await hmac(vectors.whoop.secret, `${ms}${body}`));
  return { "Content-Type": "application/json", "X-WHOOP-Signature-Timestamp": String(ms), "X-WHOOP-Signature": signature };
}

export async function terraHeaders(body: string, seconds: number): Promise<Record<string, string>> {
  const signature = hex(await hmac(vectors.terra.secret, `${seconds}.${body}`));
  return { "Content-Type": "application/json", "terra-signature": `t=${seconds},v1=${signature}` };
}

export async function polarHeaders(body: string): Promise<Record<string, string>> {
  return { "Content-Type": "application/json", "Polar-Webhook-Signature": hex(await hmac(POLAR_SECRET, body)) };
}

/** A Queue binding that keeps what is sent instead of delivering it; `failing` refuses every send. */
export function recordingQueue(options: { failing?: boolean } = {}): Queue & { sent: unknown[] } {
  const sent: unknown[] = [];
  const refuse = () => {
    if (options.failing) throw new Error("queue unavailable");
  };
  return {
    sent,
    send: async (body: unknown) => {
      refuse();
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
      refuse();
      for (const message of messages) sent.push(message.body);
    },
  } as unknown as Queue & { sent: unknown[] };
}

export const db = getDb(env.DB);
export const SYSTEM: AuditContext = { actor: "test", role: "system", reason: null, requestId: "req-hooks", ip: null };
const keyring = await importTokenKeys([`v1:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`]);
export const connectionsContext = { db, keyring };

/** A new Pulse user with a live connection to `provider` as `providerUserId`. */
export async function connectedAccount(provider: ProviderName, providerUserId: string) {
  const user = await createUser({ db }, { username: `hooks-${crypto.randomUUID()}`, displayName: "Hooks" }, SYSTEM);
  const connection = await saveConnection(
    connectionsContext,
    {
      userId: user.id,
      provider,
      providerUserId,
      tokens: { accessToken: "access", refreshToken: "refresh", accessTokenExpiresAt: null, scopes: null },
    },
    SYSTEM,
  );
  return { userId: user.id, connectionId: connection.id };
}

/** The stored event of this id, read from its ledger shard. */
export async function eventById(id: string): Promise<WebhookEventRow | undefined> {
  const [row] = await loadWebhookEvents(env, [id]);
  return row;
}

/** Every stored event naming one provider account (the ledger's person index finds them). */
export async function eventsAbout(provider: ProviderName, providerUserId: string): Promise<WebhookEventRow[]> {
  return webhookEventsAbout(env, provider, providerUserId);
}

/** The WebhookLedger shard holding this event (its id names it). */
export function ledgerOf(eventId: string) {
  const shard = ledgerShardOfEvent(eventId);
  if (shard === null) throw new Error(`${eventId} names no ledger shard`);
  return env.WEBHOOK_LEDGER.getByName(`shard:${shard}`);
}

/** The stored events holding a delivery's dedup key (at most one), found through the accounts it names. */
export async function eventsOfDelivery(delivery: VerifiedDelivery): Promise<WebhookEventRow[]> {
  const rows = new Map<string, WebhookEventRow>();
  for (const providerUserId of new Set(delivery.hints.map((hint) => hint.providerUserId))) {
    for (const row of await eventsAbout(delivery.provider, providerUserId)) {
      if (row.dedupKey === delivery.dedupKey) rows.set(row.id, row);
    }
  }
  return [...rows.values()];
}
