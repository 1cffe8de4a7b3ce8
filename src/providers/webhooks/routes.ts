/**
 * `POST|GET|HEAD /webhooks/:provider` (DESIGN §3, §7): public (providers carry no Pulse
 * credential; the signature, registered secret or handshake token is the authentication).
 *
 * Body: each provider's own limit (`MAX_BODY_BYTES`, 64 KiB to Terra's 16 MiB) through one body
 * rule per provider, so the generic JSON limit does not apply and any media type is read as bytes;
 * the declared length is refused before reading, and the stream is cut at the limit, never
 * buffered unbounded. An unknown or unconfigured provider is a 404 before any byte is read.
 *
 * Rate limiting: not the `/v1/*` limit. A provider sends every user's events from a few egress
 * addresses, in bursts when it replays a backlog, so a per-IP limit sized for API clients would
 * turn its retries into loss. Webhooks get their own in-isolate limit per IP, far above any
 * provider's documented rate (Withings: 120 requests a minute for a whole app), and floods are
 * kept from D1 by what comes before it: a forged signed delivery is refused in memory, and an
 * unsigned one about no connected account is acknowledged without a write (./receive.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getDb } from "../../db/client";
import { DomainError } from "../../errors/domain-error";
import { HttpError } from "../../http/errors";
import type { BodyRule } from "../../http/middleware/body";
import { problemResponses } from "../../http/openapi";
import { readAtMost } from "../../http/read-at-most";
import type { App, AppEnv } from "../../http/types";
import { getProvidersConfig, webhookSecretsFor } from "../config";
import { providerFacts } from "../registry";
import { MAX_BODY_BYTES, refusalError } from "./index.ts";
import { receiveWebhook, type WebhookAnswer, webhookProviderFor } from "./receive.ts";
import { WEBHOOK_PROVIDERS, type WebhookProvider } from "./types.ts";

/** Requests per minute per client IP on `/webhooks/*`, per isolate (src/rate-limit/ip-limit.ts). */
export const WEBHOOK_IP_LIMIT = { limit: 6000, periodSeconds: 60 } as const;

/**
 * Body rules for src/http/middleware/body.ts: one per provider at its own limit, then one for
 * any other `/webhooks/…` path, which is answered 404 without being read.
 */
export const WEBHOOK_BODY_RULES: BodyRule[] = [
  ...WEBHOOK_PROVIDERS.map((provider) => ({
    method: "POST",
    path: `/webhooks/${provider}`,
    maxBytes: MAX_BODY_BYTES[provider],
    contentTypes: ["*"],
  })),
  { method: "POST", path: "/webhooks", maxBytes: Math.max(...Object.values(MAX_BODY_BYTES)), contentTypes: ["*"] },
];

const Params = z.object({
  provider: z.string().openapi({ param: { name: "provider", in: "path" }, example: "oura" }),
});

const Accepted = z.object({ received: z.literal(true) }).openapi("WebhookReceipt");

const anyBody = { type: "string", format: "binary" } as const;

const deliver = createRoute({
  method: "post",
  path: "/webhooks/{provider}",
  operationId: "receiveProviderWebhook",
  tags: ["Providers"],
  summary: "A provider's webhook delivery (or a POST handshake: Polar's ping, Google's verification)",
  description:
    "Verified over the raw body (signature, registered secret or nothing for Strava and Withings, whose " +
    "events are only hints), stored once per event and queued; answered at once. A re-delivery of the " +
    "same event is answered 200 and not processed again.",
  security: [],
  request: {
    params: Params,
    body: {
      required: false,
      content: { "application/json": { schema: anyBody }, "application/x-www-form-urlencoded": { schema: anyBody } },
    },
  },
  responses: {
    200: { description: "Received (or a handshake answered)", content: { "application/json": { schema: Accepted } } },
    201: { description: "Google Health API subscriber verification answered" },
    ...problemResponses(400, 401, 404, 405, 413, 429),
  },
});

const handshake = createRoute({
  method: "get",
  path: "/webhooks/{provider}",
  operationId: "answerProviderWebhookHandshake",
  tags: ["Providers"],
  summary: "A provider's subscription handshake (Oura's challenge, Strava's hub.challenge; HEAD for Withings)",
  security: [],
  request: { params: Params },
  responses: {
    200: { description: "The handshake answered exactly as the provider requires" },
    ...problemResponses(400, 401, 404, 405, 429),
  },
});

export function registerWebhookRoutes(app: App): void {
  const handle = async (c: Context<AppEnv>, provider: string): Promise<Response> => {
    const env = c.env;
    const secrets = webhookSecretsFor(getProvidersConfig(env));
    const name = webhookProviderFor(provider, secrets);
    const source = c.req.raw.body;
    const body = source === null ? new Uint8Array() : await readAtMost(source, MAX_BODY_BYTES[name]);
    if (body === null) {
      throw refusalError({
        kind: "refused",
        provider: name,
        reason: "too_large",
        detail: `Webhook bodies from this provider are at most ${MAX_BODY_BYTES[name]} bytes.`,
      });
    }
    const answer = await receiveWebhook(
      { db: getDb(env.DB), env },
      name,
      { method: c.req.method, url: c.req.url, headers: c.req.raw.headers, body },
      secrets,
      new Date(),
    ).catch((error: unknown) => {
      // RFC 9110 §15.5.6: a 405 names the methods the resource takes.
      if (!(error instanceof DomainError) || error.code !== "METHOD_NOT_ALLOWED") throw error;
      throw new HttpError(error.code, error.detail, { extensions: error.extensions, headers: { Allow: allowedMethods(name) } });
    });
    return respond(answer);
  };
  app.openapi(deliver, (c) => handle(c, c.req.valid("param").provider));
  app.openapi(handshake, (c) => handle(c, c.req.valid("param").provider));
}

function respond(answer: WebhookAnswer): Response {
  if (answer.kind === "accepted") return Response.json({ received: true }, { status: 200 });
  const { status, body, contentType } = answer.response;
  return new Response(body, { status, headers: contentType === null ? {} : { "Content-Type": contentType } });
}

/** POST for deliveries, plus the method of the provider's handshake (Oura, Strava GET; Withings HEAD). */
function allowedMethods(provider: WebhookProvider): string {
  const handshake = providerFacts(provider).webhook?.handshake;
  if (handshake === "verification-challenge" || handshake === "hub-challenge") return "GET, POST";
  return handshake === "head" ? "HEAD, POST" : "POST";
}
