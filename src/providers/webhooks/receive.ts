/**
 * Receiving one webhook request (DESIGN §7): which provider it is for, verification over the raw
 * bytes (./index.ts `verifyWebhook`), then a handshake to answer or a delivery to keep (./events.ts).
 * The route (./routes.ts) only reads the body and shapes the answer.
 */
import type { Db } from "../../db/client";
import { DomainError } from "../../errors/domain-error";
import { log } from "../../observability/log";
import { findLiveConnectionsByProviderUsers } from "../connections";
import { acceptDelivery, type WebhookEventsContext } from "./events.ts";
import { refusalError, verifyWebhook } from "./index.ts";
import {
  type HandshakeResponse,
  isWebhookProvider,
  type RawWebhookRequest,
  type VerifiedDelivery,
  type WebhookProvider,
  type WebhookSecrets,
} from "./types.ts";

export type WebhookAnswer = { kind: "handshake"; response: HandshakeResponse } | { kind: "accepted"; eventId: string | null };

/**
 * The provider a `/webhooks/:provider` path names, if this deployment receives its webhooks;
 * NOT_FOUND otherwise, decided before a byte of the body is read.
 */
export function webhookProviderFor(name: string, secrets: WebhookSecrets): WebhookProvider {
  if (isWebhookProvider(name)) {
    const key = (name === "google-health" ? "googleHealth" : name) as keyof WebhookSecrets;
    if (secrets[key] !== undefined) return name;
  }
  throw new DomainError("NOT_FOUND", "This deployment receives no webhooks from that provider.");
}

/**
 * Verifies one request and acts on it: a handshake is answered as the provider requires, a refusal
 * is thrown as its DomainError (401, 400, 405, 413), a delivery is made durable (queued with its
 * payload; the WEBHOOKS job stores it once per dedup key).
 */
export async function receiveWebhook(
  ctx: WebhookEventsContext,
  provider: WebhookProvider,
  request: RawWebhookRequest,
  secrets: WebhookSecrets,
  now: Date,
): Promise<WebhookAnswer> {
  const outcome = await verifyWebhook(provider, request, secrets, now);
  if (outcome.kind === "refused") throw refusalError(outcome);
  if (outcome.kind === "handshake") return { kind: "handshake", response: outcome.response };
  if (outcome.authenticity === "unsigned-hint" && !(await concernsKnownAccount(ctx.db, outcome))) {
    // Anyone can send an unsigned event: one about no connected account is not worth a D1 write
    // (a flood of forged events must not fill the table). Acknowledged, so the sender stops.
    log("info", "unsigned webhook about no connected account ignored", { provider, eventType: outcome.eventType });
    return { kind: "accepted", eventId: null };
  }
  const payload = { body: request.body, contentType: request.headers.get("Content-Type") };
  const accepted = await acceptDelivery(ctx, outcome, payload, now);
  return { kind: "accepted", ...accepted };
}

async function concernsKnownAccount(db: Db, delivery: VerifiedDelivery): Promise<boolean> {
  const accounts = delivery.hints.map((hint) => ({ provider: delivery.provider, providerUserId: hint.providerUserId }));
  return (await findLiveConnectionsByProviderUsers(db, accounts)).size > 0;
}
