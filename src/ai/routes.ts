import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HPKE_SUITE } from "../../enclave-bridge/src/protocol.ts";
import { authOf, requireAuth } from "../auth/middleware";
import { DomainError } from "../errors/domain-error";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import { rateLimit } from "../rate-limit/middleware";
import { getAiConfig } from "./config";
import { EnclaveClient } from "./enclave";
import { askQuestion } from "./query";
import { AttestationReportSchema, QueryAnswerSchema, QueryBodySchema } from "./schema";

/**
 * Confidential AI (DESIGN §9, docs/confidential-ai.md): questions answered inside an attested
 * enclave. Both routes need the full `user` scope; each asks the enclave, so each has a quota.
 */
const common = { tags: ["AI"], security: [{ bearerAuth: [] }] };

const perUser = (name: string, limit: number) =>
  rateLimit({
    name,
    windowSeconds: 60,
    limit: () => limit,
    key: (c) => c.get("auth")?.userId,
    // Each call spends enclave (and model) time: an unlimited burst is worse than a retry.
    onLimiterError: "closed",
  });

const attestation = createRoute({
  ...common,
  middleware: [requireAuth(), perUser("ai-attestation", 10)] as const,
  method: "get",
  path: "/v1/ai/attestation",
  operationId: "getAttestation",
  summary: "A fresh attestation document from the enclave, with what the Worker verified in it",
  responses: {
    200: { description: "Verified", content: { "application/json": { schema: AttestationReportSchema } } },
    ...problemResponses(401, 403, 429, 502, 503),
  },
});

const query = createRoute({
  ...common,
  middleware: [requireAuth(), perUser("ai-query", 20)] as const,
  method: "post",
  path: "/v1/ai/query",
  operationId: "queryAi",
  summary: "Ask a question about your own data; answered inside the attested enclave",
  description:
    "The Worker verifies the enclave's attestation, reads only the metrics the question names within its period " +
    "(or `since`/`until`), HPKE-seals question and data to the attested key and returns the sealed answer, opened. " +
    "Audited as `ai.query` with the data categories read; the question and answer are never stored or logged.",
  request: { body: { required: true, content: { "application/json": { schema: QueryBodySchema } } } },
  responses: {
    200: { description: "The answer", content: { "application/json": { schema: QueryAnswerSchema } } },
    ...problemResponses(400, 401, 403, 415, 429, 502, 503),
  },
});

function enclaveFor(c: Context<AppEnv>): EnclaveClient {
  const config = getAiConfig(c.env);
  if (config === null) {
    throw new DomainError("SERVICE_UNAVAILABLE", "Confidential AI is not configured on this deployment (ENCLAVE_BRIDGE_URL).");
  }
  return new EnclaveClient(config);
}

const base64 = (bytes: Uint8Array | null) => (bytes === null ? "" : btoa(String.fromCharCode(...bytes)));

export function registerAiRoutes(app: App): void {
  app.openapi(attestation, async (c) => {
    const attested = await enclaveFor(c).attest();
    const verified = attested.attestation;
    const chain = verified.certificateChain;
    return c.json(
      {
        document: base64(attested.document),
        verifiedAt: attested.verifiedAt.toISOString(),
        verified: {
          moduleId: verified.moduleId,
          timestamp: verified.timestamp.toISOString(),
          digest: verified.digest,
          pcrs: { 0: verified.pcrs[0] ?? "", 1: verified.pcrs[1] ?? "", 2: verified.pcrs[2] ?? "" },
          publicKey: base64(verified.publicKey),
          nonce: base64(attested.nonce),
          certificateChain: chain.map((certificate) => certificate.subject),
          rootSha256: attested.rootSha256,
          validUntil: verified.validUntil.toISOString(),
          debugMode: false as const,
          model: attested.identity.model,
          receiptKey: attested.identity.receiptKey,
        },
        hpke: HPKE_SUITE,
      },
      200,
    );
  });

  app.openapi(query, async (c) => {
    const result = await askQuestion(
      { stores: c.env.HEALTH_STORE, userId: authOf(c).userId, audit: auditContext(c), now: new Date(), enclave: enclaveFor(c) },
      c.req.valid("json"),
    );
    return c.json(result, 200);
  });
}
