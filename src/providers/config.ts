/**
 * Provider settings (DESIGN §7), parsed once per isolate on their own like the AI settings: a
 * deployment without provider credentials still serves everything else, and connecting a provider
 * that has none answers 404 ("not offered here").
 *
 * - `PROVIDER_CREDENTIALS` (secret, JSON): per provider, the app's client id and secret at that
 *   provider and the webhook secrets it issued, e.g.
 *   `{"oura":{"clientId":"…","clientSecret":"…","webhookVerificationToken":"…"}}`.
 * - `ENABLE_SANDBOX_PROVIDER` (`true`/`false`, default false) and `SANDBOX_PROVIDER_ORIGIN`: the
 *   local fake provider `npm run dev` starts (tools/sandbox-provider). Refused in production.
 * - `APP_REDIRECT_URIS` (comma-separated origins): where `returnTo` may send a person after
 *   connecting, besides `CORS_ORIGINS` and the API's own origin (no open redirect).
 */
import { z } from "zod";
import { ConfigError, getConfig } from "../config/config";
import { DomainError } from "../errors/domain-error";
import type { DriverContext } from "./driver";
import { isProviderName, type ProviderName, providerFacts } from "./registry";
import type { WebhookSecrets } from "./webhooks/types";

const credentialsSchema = z
  .object({
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
    /** API origin override: a regional host (Dexcom `https://api.dexcom.eu`) or a sandbox host. */
    origin: z.url({ protocol: /^https?$/ }).optional(),
    /** Oura: the `verification_token` given when the subscription was created. */
    webhookVerificationToken: z.string().min(1).optional(),
    /** Strava: the `verify_token` of the push subscription, and its id once created. */
    webhookVerifyToken: z.string().min(1).optional(),
    webhookSubscriptionId: z.number().int().positive().optional(),
    /** Terra, Polar, the sandbox: the webhook signing secret the provider issued. */
    webhookSigningSecret: z.string().min(1).optional(),
    /** Google Health: the subscriber `Authorization` value, and Google's ECDSA P-256 public keys. */
    webhookAuthorization: z.string().min(1).optional(),
    webhookSigningKeys: z.array(z.record(z.string(), z.unknown())).optional(),
    /** Terra: the developer id sent as `dev-id` beside the API key (`clientSecret`). */
    devId: z.string().min(1).optional(),
  })
  .strict();

export type ProviderCredentials = z.infer<typeof credentialsSchema>;

const credentialsMapSchema = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be valid JSON" });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), credentialsSchema))
  .superRefine((map, ctx) => {
    for (const name of Object.keys(map)) {
      if (!isProviderName(name)) ctx.addIssue({ code: "custom", message: `names an unknown provider "${name}"` });
    }
  });

const origin = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, "must be bare origins like https://app.example.com");

const settingsSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]),
  PROVIDER_CREDENTIALS: credentialsMapSchema.optional(),
  ENABLE_SANDBOX_PROVIDER: z.enum(["true", "false"]).default("false"),
  SANDBOX_PROVIDER_ORIGIN: origin.optional(),
  APP_REDIRECT_URIS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part.length > 0),
    )
    .pipe(z.array(origin)),
});

export interface ProvidersConfig {
  /** The API's own origin (JWT_ISSUER): the callback `https://<origin>/oauth/<provider>/callback`. */
  publicOrigin: string;
  sandboxEnabled: boolean;
  /** Origins `returnTo` may point at: CORS_ORIGINS, APP_REDIRECT_URIS and the API's own. */
  returnToOrigins: readonly string[];
  credentials: Readonly<Partial<Record<ProviderName, ProviderCredentials>>>;
}

const cache = new WeakMap<object, ProvidersConfig>();

export function getProvidersConfig(env: Env): ProvidersConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const base = getConfig(env);
  const vars = env as unknown as Record<string, unknown>;
  const result = settingsSchema.safeParse({
    ...vars,
    PROVIDER_CREDENTIALS: vars.PROVIDER_CREDENTIALS || undefined,
    SANDBOX_PROVIDER_ORIGIN: vars.SANDBOX_PROVIDER_ORIGIN || undefined,
  });
  if (!result.success) {
    const names = [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? "(unknown)")))];
    // Never echo a value: PROVIDER_CREDENTIALS is a secret.
    throw new ConfigError(
      names,
      `Invalid configuration: ${result.error.issues.map((i) => `${String(i.path[0])} ${i.message}`).join("; ")}`,
    );
  }
  const settings = result.data;
  const sandboxEnabled = settings.ENABLE_SANDBOX_PROVIDER === "true";
  if (sandboxEnabled && settings.ENVIRONMENT === "production") {
    throw new ConfigError(
      ["ENABLE_SANDBOX_PROVIDER"],
      "Invalid configuration: ENABLE_SANDBOX_PROVIDER must be false in production",
    );
  }
  if (sandboxEnabled && !settings.SANDBOX_PROVIDER_ORIGIN) {
    throw new ConfigError(
      ["SANDBOX_PROVIDER_ORIGIN"],
      "Invalid configuration: SANDBOX_PROVIDER_ORIGIN is missing (ENABLE_SANDBOX_PROVIDER is true)",
    );
  }
  const credentials: Partial<Record<ProviderName, ProviderCredentials>> = {};
  for (const [name, value] of Object.entries(settings.PROVIDER_CREDENTIALS ?? {})) {
    if (isProviderName(name)) credentials[name] = value;
  }
  if (!sandboxEnabled) delete credentials.sandbox;
  else if (credentials.sandbox) credentials.sandbox = { ...credentials.sandbox, origin: settings.SANDBOX_PROVIDER_ORIGIN };
  const publicOrigin = new URL(base.JWT_ISSUER).origin;
  const config: ProvidersConfig = {
    publicOrigin,
    sandboxEnabled,
    returnToOrigins: [...new Set([publicOrigin, ...base.CORS_ORIGINS, ...settings.APP_REDIRECT_URIS])],
    credentials,
  };
  cache.set(env, config);
  return config;
}

/** The providers this deployment can connect: configured, and not the sandbox unless enabled. */
export function configuredProviders(config: ProvidersConfig): ProviderName[] {
  return Object.keys(config.credentials).filter(isProviderName);
}

/** What a driver needs for `provider`; NOT_FOUND when this deployment does not offer it. */
export function driverContextFor(config: ProvidersConfig, provider: ProviderName): DriverContext {
  const credentials = config.credentials[provider];
  if (!credentials)
    throw new DomainError("NOT_FOUND", `${providerFacts(provider).displayName} is not offered on this deployment.`);
  return {
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    redirectUri: `${config.publicOrigin}/oauth/${provider}/callback`,
    ...(credentials.origin ? { origin: credentials.origin } : {}),
    ...driverSettings(credentials),
  };
}

/**
 * The settings a driver needs besides OAuth client credentials. Oura's `webhookVerificationToken`
 * and Strava's `webhookVerifyToken` are the same thing to a driver: the token the provider echoes
 * when it checks the app's webhook subscription.
 */
function driverSettings(credentials: ProviderCredentials): Pick<DriverContext, "webhookVerificationToken" | "devId"> {
  const verification = credentials.webhookVerificationToken ?? credentials.webhookVerifyToken;
  return {
    ...(verification ? { webhookVerificationToken: verification } : {}),
    ...(credentials.devId ? { devId: credentials.devId } : {}),
  };
}

/** The webhook secrets of every configured provider, in the shape `verifyWebhook` takes. */
export function webhookSecretsFor(config: ProvidersConfig): WebhookSecrets {
  const c = config.credentials;
  const secrets: WebhookSecrets = {};
  if (c.oura?.webhookVerificationToken) {
    secrets.oura = { clientSecret: c.oura.clientSecret, verificationToken: c.oura.webhookVerificationToken };
  }
  if (c.whoop) secrets.whoop = { clientSecret: c.whoop.clientSecret };
  if (c.terra?.webhookSigningSecret) secrets.terra = { signingSecret: c.terra.webhookSigningSecret };
  if (c.strava?.webhookVerifyToken) {
    secrets.strava = {
      verifyToken: c.strava.webhookVerifyToken,
      ...(c.strava.webhookSubscriptionId ? { subscriptionId: c.strava.webhookSubscriptionId } : {}),
    };
  }
  if (c.withings) secrets.withings = {};
  if (c.polar?.webhookSigningSecret) secrets.polar = { signatureSecretKey: c.polar.webhookSigningSecret };
  if (c["google-health"]?.webhookAuthorization) {
    secrets.googleHealth = {
      authorization: c["google-health"].webhookAuthorization,
      ...(c["google-health"].webhookSigningKeys
        ? { signingKeys: c["google-health"].webhookSigningKeys as unknown as JsonWebKey[] }
        : {}),
    };
  }
  if (c.sandbox?.webhookSigningSecret) secrets.sandbox = { signingSecret: c.sandbox.webhookSigningSecret };
  return secrets;
}
