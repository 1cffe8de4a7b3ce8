/**
 * Confidential-AI settings (DESIGN §9), parsed once per isolate like the rest of the configuration
 * but on their own: a deployment without an enclave still serves everything else, and the AI routes
 * then answer 503. Names and defaults: README "Configuration" and docs/confidential-ai.md.
 */
import { z } from "zod";
import { ConfigError } from "../config/config";
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from "./attestation/aws-root";

const pcr = z
  .string()
  .regex(/^[0-9a-fA-F]{96}$/, "must be 48 bytes of hex (SHA-384)")
  .transform((value) => value.toLowerCase());

const seconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

const enabledSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "test", "production"]),
    ENCLAVE_BRIDGE_URL: z.url({ protocol: /^https?$/ }).transform((value) => value.replace(/\/+$/, "")),
    ENCLAVE_BRIDGE_TOKEN: z.string().min(16),
    ENCLAVE_PCR0: pcr,
    ENCLAVE_PCR1: pcr,
    ENCLAVE_PCR2: pcr,
    /** PEM or base64 DER; AWS Nitro root G1 unless a development root is pinned. */
    ENCLAVE_ROOT_CERTIFICATE: z.string().min(1).default(AWS_NITRO_ROOT_G1_PEM),
    ENCLAVE_ROOT_SHA256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 fingerprint in hex")
      .transform((value) => value.toLowerCase())
      .default(AWS_NITRO_ROOT_G1_SHA256),
    ENCLAVE_MAX_AGE_SECONDS: seconds(1, 600, 60),
    ENCLAVE_ATTESTATION_TTL_SECONDS: seconds(0, 3_600, 300),
    /**
     * "true" lets production use an enclave whose model runs outside attested hardware (its
     * attestation says so in user_data): a weaker promise, since that model's operator sees the
     * question and data. Development and test allow it regardless; every answer then says so.
     */
    ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL: z
      .enum(["true", "false"])
      .default("false")
      .transform((value) => value === "true"),
  })
  .superRefine((config, ctx) => {
    if (config.ENVIRONMENT === "production" && config.ENCLAVE_ROOT_SHA256 !== AWS_NITRO_ROOT_G1_SHA256) {
      ctx.addIssue({ code: "custom", path: ["ENCLAVE_ROOT_SHA256"], message: "must be AWS Nitro root G1 in production" });
    }
    if (config.ENVIRONMENT === "production" && !config.ENCLAVE_BRIDGE_URL.startsWith("https://")) {
      ctx.addIssue({ code: "custom", path: ["ENCLAVE_BRIDGE_URL"], message: "must be https in production" });
    }
  });

export type AiConfig = z.output<typeof enabledSchema>;

const cache = new WeakMap<object, AiConfig | null>();

/** The AI settings, or `null` when no enclave bridge is configured. */
export function getAiConfig(env: Env): AiConfig | null {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  const vars = env as unknown as Record<string, unknown>;
  let config: AiConfig | null = null;
  if (vars.ENCLAVE_BRIDGE_URL !== undefined && vars.ENCLAVE_BRIDGE_URL !== "") {
    const result = enabledSchema.safeParse(vars);
    if (!result.success) {
      const names = [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? "(unknown)")))];
      throw new ConfigError(
        names,
        `Invalid configuration: ${result.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`).join("; ")}`,
      );
    }
    config = result.data;
  }
  cache.set(env, config);
  return config;
}
