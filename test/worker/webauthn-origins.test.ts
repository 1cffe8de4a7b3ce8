import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configuredOrigins, expectedOrigins, isAllowedOrigin } from "../../src/auth/passkeys/origins";
import { type Config, getConfig } from "../../src/config/config";
import { toBase64url } from "./helpers/authenticator";

const base = getConfig(env);
const production: Config = {
  ...base,
  ENVIRONMENT: "production",
  CORS_ORIGINS: ["https://app.pulse.example"],
  JWT_ISSUER: "https://api.pulse.example/",
  RP_ID: "pulse.example",
};

const clientData = (origin: string) => toBase64url(new TextEncoder().encode(JSON.stringify({ type: "webauthn.get", origin })));

describe("WebAuthn origins", () => {
  it("accepts only the configured web apps and the API's own origin in production", () => {
    expect(configuredOrigins(production)).toEqual(["https://app.pulse.example", "https://api.pulse.example"]);
    expect(isAllowedOrigin(production, "https://app.pulse.example")).toBe(true);
    expect(isAllowedOrigin(production, "https://api.pulse.example")).toBe(true);
    for (const origin of [
      "http://localhost:8787",
      "http://127.0.0.1:3000",
      "https://evil.example",
      "https://app.pulse.example:8443",
    ]) {
      expect(isAllowedOrigin(production, origin)).toBe(false);
    }
  });

  it("adds any http://localhost and http://127.0.0.1 port outside production, and nothing else", () => {
    for (const origin of ["http://localhost:8787", "http://localhost:5173", "http://127.0.0.1:9999", "http://localhost"]) {
      expect(isAllowedOrigin(base, origin)).toBe(true);
    }
    for (const origin of [
      "https://localhost:8787",
      "http://localhost.evil.example",
      "http://127.0.0.2:80",
      "http://[::1]:8787",
    ]) {
      expect(isAllowedOrigin(base, origin)).toBe(false);
    }
  });

  it("expects the claimed origin only when it is allowed", () => {
    expect(expectedOrigins(base, clientData("http://localhost:5173"))).toEqual(["http://localhost:5173"]);
    expect(expectedOrigins(production, clientData("http://localhost:5173"))).toEqual(configuredOrigins(production));
    expect(expectedOrigins(production, "not base64 json")).toEqual(configuredOrigins(production));
  });
});
