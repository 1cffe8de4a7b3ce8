import { z } from "@hono/zod-openapi";
import type { App } from "./types";

/** The problem+json body as an OpenAPI schema, shared by every route's error responses. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string().openapi({ example: "VALIDATION_FAILED" }),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/**
 * Error responses of a route. 503 is always among them: any route that reaches D1, R2 or a Durable
 * Object answers 503 with Retry-After while that dependency is unavailable (docs/operations.md).
 */
export function problemResponses(...statuses: number[]) {
  const all = statuses.includes(503) ? statuses : [...statuses, 503];
  return Object.fromEntries(
    all.map((status) => [
      status,
      { description: "Problem details (RFC 9457)", content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  );
}

/**
 * Pulse is not open source (package.json is private): an SPDX user-defined reference. OpenAPI 3.1
 * added `identifier`; the generator's config type only knows 3.0's `{name, url}`, so it is passed
 * as a named value (no excess-property check) and written out as is.
 */
const LICENSE = { name: "Proprietary, all rights reserved", identifier: "LicenseRef-Proprietary" };

/**
 * The document's top level: served at /openapi.json and written to `openapi.json` by
 * scripts/openapi.mjs (the committed copy the SDK is generated from; a worker test keeps the two equal).
 */
export const OPENAPI_DOCUMENT: Parameters<App["getOpenAPI31Document"]>[0] = {
  openapi: "3.1.0",
  info: {
    title: "Pulse API",
    version: "0.1.0",
    description: "Health data you own: passkey sign-in, uploads, providers, FHIR export, consented sharing, audited access.",
    license: LICENSE,
  },
  // Relative: the API is served from the origin that serves this document (local, staging or production).
  servers: [{ url: "/", description: "The origin serving this document" }],
  tags: [
    { name: "Operations", description: "Liveness and dependency checks" },
    { name: "Auth", description: "Passkey ceremonies, tokens and account recovery (DESIGN §4)" },
    { name: "Account", description: "The signed-in user and their sessions" },
    { name: "Passkeys", description: "The signed-in user's passkeys" },
    { name: "Devices", description: "Device credentials for background uploads (DPoP, uploads:write)" },
    { name: "Admin", description: "Role management (admin role)" },
    { name: "Uploads", description: "Health Connect exports (DESIGN §6)" },
    { name: "Health data", description: "Normalized observations, sessions and summaries" },
    { name: "Vault", description: "Client-side encrypted notes the server cannot read" },
    {
      name: "Audit",
      description:
        "Who accessed what: the access log, the auditor's reads of the audit chains, their seals and verification (DESIGN §8)",
    },
    { name: "AI", description: "Questions answered inside an attested enclave (DESIGN §9)" },
    { name: "Providers", description: "Wearable and CGM provider connections and their webhooks (DESIGN §7)" },
    { name: "Sharing", description: "Invitations and grants: sharing chosen data with clinicians and researchers (DESIGN §8)" },
    { name: "FHIR", description: "FHIR R4 read API: application/fhir+json, errors as OperationOutcome (docs/fhir.md)" },
  ],
};

/**
 * Security schemes the routes' `security` entries name: `bearerAuth` for a session's access token,
 * `dpop` for a device credential (only routes that admit the `uploads:write` scope list it).
 */
export function registerSecuritySchemes(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "ES256 access token from /v1/auth/login/verify, /v1/auth/register/verify or /v1/auth/refresh",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "dpop", {
    type: "http",
    scheme: "dpop",
    description: "Device credential (uploads:write only) with a DPoP proof header (RFC 9449)",
  });
}
