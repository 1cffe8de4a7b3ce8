import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { authOf, requireAuth } from "../auth/middleware";
import { DomainError, fieldErrors } from "../errors/domain-error";
import { auditContext } from "../http/audit-context";
import { HttpError } from "../http/errors";
import type { BodyRule } from "../http/middleware/body";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import { errorName, log } from "../observability/log";
import { rateLimit } from "../rate-limit/middleware";
import { cancelFlow, confirmFlow, describeFlow } from "./connect/confirm";
import { type ConnectContext, connectContext } from "./connect/context";
import { finishConnection } from "./connect/finish";
import { FLOW_TTL_SECONDS } from "./connect/flow-state";
import { connectionOverview, disconnect, requestSync } from "./connect/manage";
import { refusalReason, refusalReturnTo } from "./connect/refusal";
import { withOutcome } from "./connect/return-to";
import { connectableProvider, startConnection } from "./connect/start";
import { PAGE_STYLE } from "./page-style";
import { confirmPage, type MessagePageInput, messagePage, pageCsp } from "./pages";
import { providerFacts } from "./registry";
import {
  ConnectionStartSchema,
  ConnectionsOverviewSchema,
  DisconnectedSchema,
  DisconnectQuerySchema,
  ProviderParamSchema,
  StartConnectionSchema,
  SyncAcceptedSchema,
  SyncRequestSchema,
} from "./schema";

/**
 * Provider connections (DESIGN §7, docs/providers.md "Connecting"). The /v1 routes are the API a
 * signed-in app calls; the /oauth pages are what the person's browser walks through: Pulse's
 * confirmation page, then the provider, then the callback. Those pages answer people, so their
 * failures are HTML pages saying what to do next rather than problem documents, and they are plain
 * Hono routes kept out of /openapi.json like the web app's pages.
 */
const common = { tags: ["Connections"], security: [{ bearerAuth: [] }] };

/** A small form (`flow`, `decision`) is all the confirmation page posts. */
export const CONNECT_CONFIRM_BODY_RULE: BodyRule = {
  method: "POST",
  path: "/oauth",
  maxBytes: 2048,
  contentTypes: ["application/x-www-form-urlencoded"],
};

/** Each manual sync costs provider API calls under app-wide quotas: a handful an hour per user. */
const syncQuota = rateLimit({
  name: "provider-sync",
  windowSeconds: 3600,
  limit: () => 10,
  key: (c) => c.get("auth")?.userId,
  onLimiterError: "closed",
});

/**
 * Each started flow is a Durable Object holding state for 10 minutes; a person needs a few, a script
 * looping on this route would otherwise create them as fast as the per-IP limit allows.
 */
export const CONNECT_STARTS_PER_10_MINUTES = 20;
const startQuota = rateLimit({
  name: "provider-connect",
  windowSeconds: 600,
  limit: () => CONNECT_STARTS_PER_10_MINUTES,
  key: (c) => c.get("auth")?.userId,
  onLimiterError: "closed",
});

const start = createRoute({
  ...common,
  middleware: [requireAuth(), startQuota] as const,
  method: "post",
  path: "/v1/connections/{provider}",
  operationId: "startConnection",
  summary: "Start connecting a provider: a link to Pulse's confirmation page",
  description:
    "Open `authorizeUrl` in the person's browser within 10 minutes: Pulse shows which account is being linked, " +
    "then sends the browser to the provider. `returnTo` (an allowed origin only) receives `?connected=<provider>` " +
    "afterwards. 404 for a provider that is unknown, unavailable (the detail says why) or not offered here; " +
    "409 when it is already connected and active. 20 starts per 10 minutes per user (429).",
  request: {
    params: ProviderParamSchema,
    body: { required: false, content: { "application/json": { schema: StartConnectionSchema } } },
  },
  responses: {
    201: { description: "Flow started", content: { "application/json": { schema: ConnectionStartSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 415, 429, 502),
  },
});

const list = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/connections",
  operationId: "listConnections",
  summary: "Your provider connections, the providers you can connect, and those Pulse cannot offer",
  responses: {
    200: { description: "Connections", content: { "application/json": { schema: ConnectionsOverviewSchema } } },
    ...problemResponses(401, 403, 429),
  },
});

const remove = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "delete",
  path: "/v1/connections/{provider}",
  operationId: "deleteConnection",
  summary: "Disconnect a provider (revoked at the provider when it can be; tokens deleted)",
  description:
    "`data=keep` (default) keeps what was already copied; `data=delete` also deletes this provider's observations, " +
    "sleep sessions and workouts from your record, and summaries stop counting them.",
  request: { params: ProviderParamSchema, query: DisconnectQuerySchema },
  responses: {
    200: { description: "Disconnected", content: { "application/json": { schema: DisconnectedSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

const sync = createRoute({
  ...common,
  middleware: [requireAuth(), syncQuota] as const,
  method: "post",
  path: "/v1/connections/{provider}/sync",
  operationId: "syncConnection",
  summary: "Fetch a time range from the provider again (queued)",
  description:
    "Defaults: `since` = the last sync minus one day (or the first backfill's window), `until` = now. " +
    "At most 366 days, `until` at most one day ahead. 409 when the provider needs reconnecting. 10 an hour per user.",
  request: {
    params: ProviderParamSchema,
    body: { required: false, content: { "application/json": { schema: SyncRequestSchema } } },
  },
  responses: {
    202: { description: "Queued", content: { "application/json": { schema: SyncAcceptedSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 415, 429, 503),
  },
});

function contextOf(c: Context<AppEnv>): Promise<ConnectContext> {
  return connectContext(c.env, auditContext(c));
}

export function registerConnectionRoutes(app: App): void {
  app.openapi(list, async (c) => c.json(await connectionOverview(await contextOf(c), authOf(c).userId), 200));
  app.openapi(start, async (c) => {
    const body = await optionalJson(c, StartConnectionSchema);
    const started = await startConnection(await contextOf(c), authOf(c).userId, c.req.valid("param").provider, body);
    return c.json(started, 201);
  });
  app.openapi(remove, async (c) => {
    const { provider } = c.req.valid("param");
    const result = await disconnect(await contextOf(c), authOf(c).userId, provider, c.req.valid("query").data);
    return c.json(result, 200);
  });
  app.openapi(sync, async (c) => {
    const body = await optionalJson(c, SyncRequestSchema);
    return c.json(await requestSync(await contextOf(c), authOf(c).userId, c.req.valid("param").provider, body), 202);
  });

  app.get("/oauth/style.css", (c) =>
    c.body(PAGE_STYLE, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600" }),
  );
  app.get("/oauth/:provider/connect", (c) => browserStep(c, () => showConfirmation(c)));
  app.post("/oauth/:provider/connect", (c) => browserStep(c, () => confirm(c)));
  app.get("/oauth/:provider/callback", (c) => {
    // Hono answers HEAD with the GET handler, and the callback is not safe: it takes the flow's
    // state and would finish the connection. A prefetch or link checker must not do either.
    if (c.req.method === "HEAD") {
      throw new HttpError("METHOD_NOT_ALLOWED", "HEAD is not allowed here; allowed: GET.", { headers: { Allow: "GET" } });
    }
    return browserStep(c, () => callback(c));
  });
}

/**
 * An optional JSON body: none (or an empty one) is `{}`; anything else must match the schema. The
 * validator of `createRoute` only runs when a JSON content type is sent, so this reads the body
 * itself; the body-limit middleware has already refused other media types (415).
 */
async function optionalJson<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim().length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new DomainError("MALFORMED_JSON", "The request body is not valid JSON.");
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new DomainError("VALIDATION_FAILED", "The request did not match the expected shape.", {
    errors: fieldErrors(parsed.error.issues),
  });
}

const PAGE_HEADERS = { "Cache-Control": "no-store" };

/** One answer per refusal, in words for the person in front of the browser. */
function refusalPage(error: DomainError): { status: 400 | 403 | 404 | 409 | 502 | 200; page: MessagePageInput } {
  const startAgain = "Start again from the Pulse app; each connection link works once, for 10 minutes.";
  switch (error.code === "BAD_REQUEST" || error.code === "FORBIDDEN" ? refusalReason(error) : null) {
    case "declined":
      return {
        status: 200,
        page: {
          title: "Connection cancelled",
          message: "You declined at the provider, so nothing was connected and Pulse received no data.",
          next: "You can connect it later from the Pulse app.",
        },
      };
    case "other_browser":
      return {
        status: 400,
        page: {
          title: "Finish in the same browser",
          message: "This connection was confirmed in another browser (or not confirmed), so Pulse did not connect anything.",
          next: "Start again from the Pulse app and complete every step in this browser.",
        },
      };
    case "cross_site":
      return {
        status: 403,
        page: {
          title: "Confirmation refused",
          message: "The confirmation came from another website, not from Pulse's own page, so nothing was connected.",
          next: startAgain,
        },
      };
    case "unknown_flow":
    case "wrong_provider":
    case "malformed_callback":
      return {
        status: 400,
        page: { title: "This link no longer works", message: error.detail ?? "Unknown link.", next: startAgain },
      };
    default:
      break;
  }
  if (error.code === "NOT_FOUND") {
    return {
      status: 404,
      page: { title: "Provider not available", message: error.detail ?? "Unknown provider.", next: startAgain },
    };
  }
  if (error.code === "CONFLICT") {
    return {
      status: 409,
      page: {
        title: "Already connected elsewhere",
        message: error.detail ?? "This provider account is already connected.",
        next: "Disconnect it from the other Pulse account first, or sign in to the provider with another account.",
      },
    };
  }
  if (error.code === "PROVIDER_FAILED") {
    return {
      status: 502,
      page: { title: "The provider did not answer", message: error.detail ?? "The provider failed.", next: startAgain },
    };
  }
  return {
    status: 400,
    page: { title: "Something in this link is wrong", message: error.detail ?? "Bad request.", next: startAgain },
  };
}

async function browserStep(c: Context<AppEnv>, step: () => Promise<Response>): Promise<Response> {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof DomainError) || error.code === "INTERNAL" || error.code === "SERVICE_UNAVAILABLE") throw error;
    log("info", "connection step refused", { requestId: c.get("requestId"), code: error.code, error: errorName(error) });
    const returnTo = refusalReturnTo(error);
    if (returnTo !== null && refusalReason(error) === "declined") {
      return c.redirect(withOutcome(returnTo, "error", "access_denied"), 303);
    }
    const { status, page } = refusalPage(error);
    return html(c, messagePage(page), status);
  }
}

function html(c: Context<AppEnv>, body: string, status: 200 | 400 | 403 | 404 | 409 | 502, formTarget?: string): Response {
  return c.html(body, status, { ...PAGE_HEADERS, "Content-Security-Policy": pageCsp(formTarget) });
}

/**
 * The browser-binding cookie. `Secure` with the `__Host-` prefix (which also requires `Path=/`,
 * RFC 6265bis §4.1.3.2) except on plain-http development and test servers, where a Secure cookie
 * would not be stored; there it is scoped to `/oauth/`.
 */
const BINDING_COOKIE = "pulse_oauth_binding";

interface BindingCookie {
  name: string;
  options: { httpOnly: true; sameSite: "Lax"; path: string; secure: boolean; prefix?: "host" };
}

function bindingCookie(c: Context<AppEnv>): BindingCookie {
  const secure = new URL(c.req.url).protocol === "https:" || c.var.config.ENVIRONMENT === "production";
  return secure
    ? { name: BINDING_COOKIE, options: { httpOnly: true, sameSite: "Lax", path: "/", secure, prefix: "host" } }
    : { name: BINDING_COOKIE, options: { httpOnly: true, sameSite: "Lax", path: "/oauth/", secure } };
}

/**
 * The confirmation must be posted by Pulse's own page: an auto-submitting form on another site
 * would otherwise skip it. Fetch Metadata when the browser sends it, else the Origin header.
 */
function isSameOrigin(c: Context<AppEnv>, publicOrigin: string): boolean {
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined) return site === "same-origin";
  const origin = c.req.header("Origin");
  return origin !== undefined && (origin === publicOrigin || origin === new URL(c.req.url).origin);
}

async function showConfirmation(c: Context<AppEnv>): Promise<Response> {
  const ctx = await contextOf(c);
  const provider = connectableProvider(ctx, c.req.param("provider") ?? "");
  const flow = c.req.query("flow") ?? "";
  const description = await describeFlow(ctx, provider, flow);
  const action = `/oauth/${provider}/connect`;
  return html(c, confirmPage({ ...description, action, flow }), 200, description.providerOrigin);
}

async function confirm(c: Context<AppEnv>): Promise<Response> {
  const ctx = await contextOf(c);
  const provider = connectableProvider(ctx, c.req.param("provider") ?? "");
  if (!isSameOrigin(c, ctx.config.publicOrigin)) {
    throw new DomainError("FORBIDDEN", "The confirmation was not sent by Pulse's page.", {
      extensions: { reason: "cross_site" },
    });
  }
  const form = await c.req.parseBody();
  const flow = typeof form.flow === "string" ? form.flow : "";
  if (form.decision === "cancel") {
    const returnTo = await cancelFlow(c.env, provider, flow);
    if (returnTo !== null) return c.redirect(withOutcome(returnTo, "error", "cancelled"), 303);
    return html(
      c,
      messagePage({ title: "Connection cancelled", message: "Nothing was connected.", next: "You can close this page." }),
      200,
    );
  }
  const { bindingSecret, providerAuthorizeUrl } = await confirmFlow(c.env, provider, flow);
  const cookie = bindingCookie(c);
  setCookie(c, cookie.name, bindingSecret, { ...cookie.options, maxAge: FLOW_TTL_SECONDS });
  return c.redirect(providerAuthorizeUrl, 303);
}

async function callback(c: Context<AppEnv>): Promise<Response> {
  const ctx = await contextOf(c);
  const provider = connectableProvider(ctx, c.req.param("provider") ?? "");
  const cookie = bindingCookie(c);
  const { prefix } = cookie.options;
  const secret = (prefix ? getCookie(c, cookie.name, prefix) : getCookie(c, cookie.name)) ?? null;
  // Whatever happens next, the flow is over: the cookie has nothing left to bind.
  deleteCookie(c, cookie.name, cookie.options);
  const finished = await finishConnection(ctx, provider, new URL(c.req.url).searchParams, secret);
  if (finished.returnTo !== null) return c.redirect(withOutcome(finished.returnTo, "connected", provider), 303);
  const name = providerFacts(provider).displayName;
  return html(
    c,
    messagePage({
      title: `${name} connected`,
      message: `Pulse is now copying your data from ${name}; the first import can take a few minutes.`,
      next: "You can close this page and return to the Pulse app.",
    }),
    200,
  );
}
