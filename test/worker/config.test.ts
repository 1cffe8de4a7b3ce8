import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
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
});
