/**
 * Configuration and secrets, parsed with zod once per isolate (STYLE: "not per request").
 *
 * The parsed result is cached per `env` object: workerd hands the same env to every request of an
 * isolate, and tests that build their own env get their own parse. A missing or malformed setting
 * throws `ConfigError` whose message names every offending setting.
 *
 * `ENVIRONMENT=production` also refuses every development value (docs/deploying.md): localhost or
 * plain-http origins, issuer and RP ID, and the `REPLACE_ME` placeholders of `[env.production]` in
 * wrangler.toml. Development allowances elsewhere (CORS and WebAuthn accepting any localhost port,
 * a development enclave root) are off in production, so a deployment that kept development values
 * would refuse its own users; failing on the first parse in each isolate names the settings instead.
 */
import { z } from "zod";
import { productionProblems } from "./production";

const origin = z
  .string()
  .refine(
    (value) => URL.canParse(value) && new URL(value).origin === value,
    "must be a bare origin like https://app.example.com",
  );

const commaList = z.string().transform((value) =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);

const positiveInt = z.coerce.number().int().positive();

const base64Key32 = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "must be 32 bytes of standard base64");

const ecPrivateJwk = z.object({
  kid: z.string().min(1),
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
});

const jsonString = <T extends z.ZodType>(inner: T) =>
  z
    .string()
    .transform((value, ctx) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(inner);

export const configSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "production"]),
  CORS_ORIGINS: commaList.pipe(z.array(origin)),
  RP_ID: z.string().min(1),
  RP_NAME: z.string().min(1),
  JWT_ISSUER: z.url(),
  JWT_AUDIENCE: z.string().min(1),
  MAX_JSON_BODY_BYTES: positiveInt.max(10 * 1024 * 1024),
  /** ES256 signing keys, newest first; older ones stay to verify tokens until they expire. */
  JWT_SIGNING_KEYS: jsonString(z.array(ecPrivateJwk).min(1)),
  /** Versioned AES-256-GCM keys for provider tokens: `v2:<base64>,v1:<base64>`, newest first. */
  TOKEN_ENCRYPTION_KEYS: commaList.pipe(
    z.array(z.string().regex(/^v\d+:[A-Za-z0-9+/]{43}=$/, "must be v<N>:<32 bytes base64>")).min(1),
  ),
  /** HMAC key that pseudonymises user ids in audit records kept after account deletion. */
  AUDIT_PSEUDONYM_KEY: base64Key32,
  /**
   * Days an original uploaded file is kept in R2 (docs/retention.md), or `forever`. Zero is refused
   * rather than read as "delete at once" or "never": either reading would surprise someone.
   */
  RAW_UPLOAD_RETENTION_DAYS: z
    .union([z.literal("forever"), positiveInt.max(36_500)], {
      error: 'must be a positive whole number of days (at most 36500) or "forever"',
    })
    .default(365),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  readonly settings: string[];
  constructor(settings: string[], message: string) {
    super(message);
    this.name = "ConfigError";
    this.settings = settings;
  }
}

const cache = new WeakMap<object, Config>();

export function parseConfig(env: Record<string, unknown>): Config {
  const result = configSchema.safeParse(env);
  const production = productionProblems(env);
  if (result.success && production.length === 0) return result.data;
  const shape = (result.error?.issues ?? []).map((issue) => {
    const name = String(issue.path[0] ?? "(unknown)");
    const value = env[name];
    const reason = value === undefined || value === "" ? "is missing" : issue.message;
    return { name, text: `${name} ${reason}` };
  });
  const problems = [...shape, ...production];
  const names = [...new Set(problems.map((p) => p.name))];
  throw new ConfigError(names, `Invalid configuration: ${problems.map((p) => p.text).join("; ")}`);
}

/** The parsed configuration for this env, computed once per isolate. */
export function getConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const config = parseConfig(env as unknown as Record<string, unknown>);
  cache.set(env, config);
  return config;
}
