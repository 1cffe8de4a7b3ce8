import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isAllowedOrigin } from "../../src/auth/passkeys/origins";
import { ConfigError, parseConfig } from "../../src/config/config";
import { call, createTestApp } from "./helpers/test-app";

const valid = () => ({ ...env }) as unknown as Record<string, unknown>;

describe("configuration", () => {
  afterEach(() => vi.restoreAllMocks());

  it("parses the test environment", () => {
    const config = parseConfig(valid());
    expect(config.ENVIRONMENT).toBe("test");
    expect(config.CORS_ORIGINS).toEqual(["http://localhost:8787", "http://127.0.0.1:8787"]);
    expect(config.MAX_JSON_BODY_BYTES).toBe(1048576);
    expect(config.JWT_SIGNING_KEYS[0]?.kty).toBe("EC");
  });

  it("names every missing or malformed setting", () => {
    const broken = { ...valid(), JWT_SIGNING_KEYS: undefined, CORS_ORIGINS: "not-a-url", MAX_JSON_BODY_BYTES: "lots" };
    let error: unknown;
    try {
      parseConfig(broken);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.settings.sort()).toEqual(["CORS_ORIGINS", "JWT_SIGNING_KEYS", "MAX_JSON_BODY_BYTES"]);
    expect(configError.message).toContain("JWT_SIGNING_KEYS is missing");
    expect(configError.message).toContain("CORS_ORIGINS");
  });

  it("rejects a signing key that is not JSON without echoing it", () => {
    expect(() => parseConfig({ ...valid(), JWT_SIGNING_KEYS: "secret-material{" })).toThrow(
      /JWT_SIGNING_KEYS must be valid JSON/,
    );
    try {
      parseConfig({ ...valid(), JWT_SIGNING_KEYS: "secret-material{" });
    } catch (caught) {
      expect((caught as Error).message).not.toContain("secret-material");
    }
  });

  it("answers 500 without detail and logs the setting name when the deployment is misconfigured", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await call(createTestApp(), "/health", {}, { TOKEN_ENCRYPTION_KEYS: "" });
    expect(res.status).toBe(500);
    const body = await res.json<{ code: string; detail: string }>();
    expect(body.code).toBe("INTERNAL");
    expect(body.detail).not.toContain("TOKEN_ENCRYPTION_KEYS");
    const logged = errors.mock.calls.map((args) => String(args[0])).join("\n");
    expect(logged).toContain("TOKEN_ENCRYPTION_KEYS");
  });

  describe("production", () => {
    const production = () => ({
      ...valid(),
      ENVIRONMENT: "production",
      CORS_ORIGINS: "https://app.pulse-health.example",
      RP_ID: "pulse-health.example",
      JWT_ISSUER: "https://api.pulse-health.example",
      ENABLE_SANDBOX_PROVIDER: "false",
    });

    function problemsOf(env: Record<string, unknown>): ConfigError {
      try {
        parseConfig(env);
      } catch (caught) {
        if (caught instanceof ConfigError) return caught;
        throw caught;
      }
      throw new Error("the configuration was accepted");
    }

    it("accepts https origins under the relying party's domain", () => {
      const config = parseConfig(production());
      expect(config.ENVIRONMENT).toBe("production");
      expect(config.RP_ID).toBe("pulse-health.example");
    });

    it("refuses the development values, naming each setting", () => {
      // The top-level [vars] of wrangler.toml with only ENVIRONMENT switched.
      // (The tests turn the sandbox provider on, which production refuses too.)
      const error = problemsOf({ ...valid(), ENVIRONMENT: "production" });
      expect(error.settings.sort()).toEqual(["CORS_ORIGINS", "ENABLE_SANDBOX_PROVIDER", "JWT_ISSUER", "RP_ID"]);
      expect(error.message).toContain("ENABLE_SANDBOX_PROVIDER must be false in production");
      expect(error.message).toContain("CORS_ORIGINS must not be a local address in production (http://localhost:8787)");
      expect(error.message).toContain("CORS_ORIGINS must not be a local address in production (http://127.0.0.1:8787)");
      expect(error.message).toContain("JWT_ISSUER must not be a local address in production");
      expect(error.message).toContain("RP_ID must be a domain name in production, not localhost");
    });

    it("refuses plain http, placeholders and an RP ID the issuer's origin cannot use", () => {
      const error = problemsOf({
        ...production(),
        CORS_ORIGINS: "https://app.pulse-health.example,http://web.pulse-health.example",
        JWT_ISSUER: "https://api.other.example",
        RP_NAME: "REPLACE_ME with the product name",
      });
      expect(error.settings.sort()).toEqual(["CORS_ORIGINS", "RP_ID", "RP_NAME"]);
      expect(error.message).toContain("CORS_ORIGINS must use https in production (http://web.pulse-health.example)");
      expect(error.message).toContain("RP_ID must be api.other.example or a parent domain of it");
      expect(error.message).toContain("RP_NAME still holds the REPLACE_ME placeholder");
    });

    it("reports production problems together with missing secrets", () => {
      const error = problemsOf({
        ...production(),
        JWT_ISSUER: "http://api.pulse-health.example",
        AUDIT_PSEUDONYM_KEY: undefined,
      });
      expect(error.settings.sort()).toEqual(["AUDIT_PSEUDONYM_KEY", "JWT_ISSUER"]);
    });

    it("turns off the localhost allowance of CORS", async () => {
      const app = createTestApp();
      const bindings = production() as Partial<Env>;
      const local = await call(app, "/health", { headers: { Origin: "http://localhost:5173" } }, bindings);
      expect(local.headers.get("Access-Control-Allow-Origin")).toBeNull();
      const listed = await call(app, "/health", { headers: { Origin: "https://app.pulse-health.example" } }, bindings);
      expect(listed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.pulse-health.example");
    });

    it("turns off the localhost allowance of WebAuthn", () => {
      const config = parseConfig(production());
      expect(isAllowedOrigin(config, "http://localhost:8787")).toBe(false);
      expect(isAllowedOrigin(config, "http://127.0.0.1:5173")).toBe(false);
      expect(isAllowedOrigin(config, "https://api.pulse-health.example")).toBe(true);
      expect(isAllowedOrigin(parseConfig(valid()), "http://localhost:5173")).toBe(true);
    });
  });
});
