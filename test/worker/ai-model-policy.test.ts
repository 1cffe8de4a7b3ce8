import { describe, expect, inject, it } from "vitest";
import { type AiConfig, getAiConfig } from "../../src/ai/config";
import { EnclaveClient } from "../../src/ai/enclave";
import { NON_CONFIDENTIAL_NOTICE } from "../../src/ai/query";
import { DomainError } from "../../src/errors/domain-error";
import type { EnclaveBridgeFixture } from "../support/enclave-bridge-fixture";
import { createSessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

/**
 * An enclave whose model runs outside attested hardware (the real enclave-bridge asking a
 * non-attested OpenAI-compatible stand-in, started by test/support/enclave-bridge.global.ts): every
 * answer says so, and production refuses such an enclave unless a setting of its own allows it.
 */
const app = createTestApp();
const bridge: EnclaveBridgeFixture = inject("enclaveBridge");

function bindings(url: string): Record<string, string> {
  return {
    ENVIRONMENT: "test",
    ENCLAVE_BRIDGE_URL: url,
    ENCLAVE_BRIDGE_TOKEN: bridge.token,
    ENCLAVE_PCR0: bridge.pcrs[0],
    ENCLAVE_PCR1: bridge.pcrs[1],
    ENCLAVE_PCR2: bridge.pcrs[2],
    ENCLAVE_ROOT_CERTIFICATE: bridge.rootCertificate,
    ENCLAVE_ROOT_SHA256: bridge.rootSha256,
  };
}

/**
 * Production's configuration pins the AWS root, which no local enclave chains to; the policy is
 * tested on a configuration parsed for test and then marked production, the seam EnclaveClient
 * takes, so nothing in the configuration's own rules is loosened.
 */
function productionConfig(url: string, allow: boolean): AiConfig {
  const parsed = getAiConfig(bindings(url) as unknown as Env);
  if (parsed === null) throw new Error("no AI configuration");
  return {
    ...parsed,
    ENVIRONMENT: "production",
    ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL: allow,
    ENCLAVE_ATTESTATION_TTL_SECONDS: 0,
  };
}

describe("an enclave with a non-confidential model", () => {
  it("answers in test mode, and the answer names the model and carries the notice", async () => {
    const user = await createSessionUser();
    const res = await call(
      app,
      "/v1/ai/query",
      {
        method: "POST",
        headers: { ...user.headers, "Content-Type": "application/json" },
        body: JSON.stringify({ question: "What was my average resting heart rate last week?" }),
      },
      bindings(bridge.nonConfidentialUrl) as Partial<Env>,
    );
    expect(res.status).toBe(200);
    const body = await res.json<{
      answer: string;
      model: { id: string; kind: string; confidential: boolean };
      notice?: string;
    }>();
    expect(body.answer).toBe(bridge.nonConfidentialAnswer);
    expect(body.model).toEqual({ id: "openai:stand-in", kind: "remote", confidential: false });
    expect(body.notice).toBe(NON_CONFIDENTIAL_NOTICE);
  });

  it("is refused in production unless ENCLAVE_ALLOW_NON_CONFIDENTIAL_MODEL allows it", async () => {
    const refused = new EnclaveClient(productionConfig(bridge.nonConfidentialUrl, false)).attest();
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({
      code: "ATTESTATION_FAILED",
      extensions: { reason: "NON_CONFIDENTIAL_MODEL" },
    });

    const allowed = await new EnclaveClient(productionConfig(bridge.nonConfidentialUrl, true)).attest();
    expect(allowed.identity.model).toEqual({ id: "openai:stand-in", kind: "remote", confidential: false });
  });

  it("leaves a confidential model alone in production", async () => {
    const attested = await new EnclaveClient(productionConfig(bridge.url, false)).attest();
    expect(attested.identity.model.confidential).toBe(true);
  });
});
