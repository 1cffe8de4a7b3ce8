import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { getConfig } from "../../src/config/config";
import { CURRENT_CONSENT_VERSIONS } from "../../src/consent/consents";
import { getDb } from "../../src/db/client";
import { GRANTEE_ROLES, passkeys } from "../../src/db/schema";
import { saveConnection } from "../../src/providers/connections";
import { tokenKeyringFor } from "../../src/providers/tokens";
import { acceptCurrentConsent } from "./helpers/consent";
import { generateDeviceKey } from "./helpers/dpop";
import { observationInput } from "./helpers/observations";
import { type SecurityCaseOptions, securityCases } from "./helpers/security-cases";
import { createSessionUser, type SessionUser, testIp } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { uploadOk } from "./helpers/upload-api";
import { SAMPLES, sampleBytes } from "./helpers/upload-files";

/**
 * Every authenticated route and its shared security cases (./helpers/security-cases.ts), in one
 * table keyed as the OpenAPI document names operations (`METHOD /path/{param}`). The last test walks
 * the application's routes and fails when one that refuses an anonymous caller is missing here, or
 * when /openapi.json and the table disagree on which operations need credentials: a new route
 * cannot ship without its security cases.
 */
const app = createTestApp();

type Method = SecurityCaseOptions["method"];
type Cases = Omit<SecurityCaseOptions, "app" | "method">;

const RANGE = "since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z";
const SOME_ID = "a".repeat(26);
const INVITATION = {
  role: "clinician",
  categories: ["vitals"],
  expiresAt: new Date(Date.now() + 30 * 24 * 60 * 60 * 1000).toISOString(),
};
const VAULT_BLOB = {
  version: 2,
  kdf: "PBKDF2",
  hash: "SHA-256",
  iterations: 600_000,
  salt: "q83vEjRWeJCrze8SNFZ4kA==",
  cipher: "AES-256-GCM",
  iv: "AQIDBAUGBwgJCgsM",
  ciphertext: "2IDK/HJO5ym8bHXUh1s77otj8QxMQp9pdMxGf3S+WvgD4WYgVlYweRwceyk2epiRY7w=",
};

async function send(owner: SessionUser, method: Method, path: string, body: unknown): Promise<Response> {
  const res = await call(app, path, {
    method,
    headers: { ...owner.headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return res;
}

/** Two passkeys (a user may not delete their last one); the path of the first. */
async function ownedPasskey(owner: SessionUser): Promise<string> {
  const ids = [crypto.randomUUID(), crypto.randomUUID()].map((id) => id.replaceAll("-", ""));
  for (const id of ids) {
    await getDb(env.DB)
      .insert(passkeys)
      .values({
        id,
        userId: owner.user.id,
        name: "Seeded",
        publicKey: "pQECAyYgASFYIA",
        transports: ["usb"],
        aaguid: "00000000-0000-0000-0000-000000000000",
        backupEligible: false,
        backedUp: false,
        createdAt: new Date(),
      });
  }
  return `/v1/me/passkeys/${ids[0]}`;
}

async function ownedDevice(owner: SessionUser): Promise<string> {
  const key = await generateDeviceKey();
  const res = await send(owner, "POST", "/v1/me/devices", { name: "Phone", publicJwk: key.publicJwk });
  return `/v1/me/devices/${(await res.json<{ device: { id: string } }>()).device.id}`;
}

async function ownedBlob(owner: SessionUser): Promise<string> {
  await send(owner, "PUT", "/v1/vault/note-1", VAULT_BLOB);
  return "/v1/vault/note-1";
}

/** A sandbox connection of the owner, stored as the callback stores one (the flow has its own tests). */
async function connectedProvider(owner: SessionUser): Promise<string> {
  const db = getDb(env.DB);
  await saveConnection(
    { db, keyring: await tokenKeyringFor(getConfig(env)) },
    {
      userId: owner.user.id,
      provider: "sandbox",
      providerUserId: `sbx-${crypto.randomUUID()}`,
      tokens: { accessToken: "at", refreshToken: null, accessTokenExpiresAt: null, scopes: null },
    },
    { actor: owner.user.id, role: owner.user.role, reason: null, requestId: null, ip: null },
  );
  return "/v1/connections/sandbox";
}

/** An export of the owner, queued as the route queues one. */
async function ownedExport(owner: SessionUser): Promise<string> {
  const res = await send(owner, "POST", "/v1/me/exports", undefined);
  return (await res.json<{ statusUrl: string }>()).statusUrl;
}

async function connectedSyncPath(owner: SessionUser): Promise<string> {
  return `${await connectedProvider(owner)}/sync`;
}

/** A pending invitation of the owner (who first accepts the current terms, as sharing requires). */
async function ownedInvitation(owner: SessionUser): Promise<string> {
  await acceptCurrentConsent(owner.user.id);
  const res = await send(owner, "POST", "/v1/me/grants/invitations", INVITATION);
  return `/v1/me/grants/invitations/${(await res.json<{ id: string }>()).id}`;
}

/** The owner's narrative of a day, stored by their first read of it. */
async function ownedNarrative(owner: SessionUser): Promise<string> {
  const res = await call(app, "/v1/narratives?date=2026-01-15", { headers: owner.headers });
  expect(res.status).toBe(200);
  return `/v1/narratives/${(await res.json<{ id: string }>()).id}`;
}

/** A grant the owner gave a clinician, redeemed through the API. */
async function ownedGrant(owner: SessionUser): Promise<string> {
  await acceptCurrentConsent(owner.user.id);
  const { code } = await (await send(owner, "POST", "/v1/me/grants/invitations", INVITATION)).json<{ code: string }>();
  const clinician = await createSessionUser({ role: "clinician" });
  const res = await send(clinician, "POST", "/v1/grants/redeem", { code });
  return `/v1/me/grants/${(await res.json<{ grant: { id: string } }>()).grant.id}`;
}

const fhirPatient = (owner: SessionUser) => `usr-${owner.user.id.slice(4)}`;

/** One sample of the owner's, addressed by its FHIR Observation id. */
async function ownedFhirObservation(owner: SessionUser): Promise<string> {
  const start = Date.parse("2026-01-15T08:00:00Z");
  await healthStoreFor(env.HEALTH_STORE, owner.user.id).ingestBatch(
    { observations: [observationInput("heart_rate", "bpm", start, 61, { device: "Watch" })] },
    { actor: "etl", role: "system", subject: owner.user.id, reason: null, requestId: null, ip: null },
  );
  const res = await call(app, "/v1/fhir/Observation?code=8867-4", { headers: owner.headers });
  const bundle = await res.json<{ entry: { resource: { id: string } }[] }>();
  return `/v1/fhir/Observation/${bundle.entry[0]?.resource.id}`;
}

/** The device of the owner's sample, addressed by its FHIR Device id. */
async function ownedFhirDevice(owner: SessionUser): Promise<string> {
  await ownedFhirObservation(owner);
  const res = await call(app, "/v1/fhir/Device", { headers: owner.headers });
  const bundle = await res.json<{ entry: { resource: { id: string } }[] }>();
  return `/v1/fhir/Device/${bundle.entry[0]?.resource.id}`;
}

const SECURITY_CASES: Record<string, Cases> = {
  "GET /v1/me": { path: "/v1/me" },
  "GET /v1/me/sessions": { path: "/v1/me/sessions" },
  "GET /v1/me/consents": { path: "/v1/me/consents" },
  "POST /v1/me/consents": { path: "/v1/me/consents", body: { document: "terms", version: CURRENT_CONSENT_VERSIONS.terms } },
  "POST /v1/me/consents/withdraw": { path: "/v1/me/consents/withdraw", body: { document: "terms" } },
  "DELETE /v1/me/sessions": { path: "/v1/me/sessions" },
  "DELETE /v1/me/sessions/{id}": {
    path: `/v1/me/sessions/ses_${SOME_ID}`,
    foreignPath: async (owner) => `/v1/me/sessions/${owner.sessionId}`,
  },
  "POST /v1/auth/logout": { path: "/v1/auth/logout", scope: ["user", "recovery"] },
  "GET /v1/me/passkeys": { path: "/v1/me/passkeys" },
  "PATCH /v1/me/passkeys/{id}": {
    path: "/v1/me/passkeys/AAAAAAAAAAAAAAAAAAAAAA",
    body: { name: "Renamed" },
    foreignPath: ownedPasskey,
  },
  "DELETE /v1/me/passkeys/{id}": { path: "/v1/me/passkeys/AAAAAAAAAAAAAAAAAAAAAA", foreignPath: ownedPasskey },
  "POST /v1/me/passkeys/options": { path: "/v1/me/passkeys/options", scope: ["user", "recovery"] },
  "POST /v1/me/passkeys/verify": {
    path: "/v1/me/passkeys/verify",
    body: { flowId: `flw_${SOME_ID}`, response: {} },
    scope: ["user", "recovery"],
  },
  "POST /v1/me/recovery-codes": { path: "/v1/me/recovery-codes" },
  "DELETE /v1/me": { path: "/v1/me" },
  "POST /v1/me/deletion/options": { path: "/v1/me/deletion/options" },
  "POST /v1/me/deletion/verify": { path: "/v1/me/deletion/verify", body: { flowId: `flw_${SOME_ID}`, response: {} } },
  "POST /v1/me/devices": {
    path: "/v1/me/devices",
    body: { name: "Phone", publicJwk: { kty: "EC", crv: "P-256", x: "A".repeat(43), y: "A".repeat(43) } },
  },
  "GET /v1/me/devices": { path: "/v1/me/devices" },
  "DELETE /v1/me/devices/{id}": { path: `/v1/me/devices/dev_${SOME_ID}`, foreignPath: ownedDevice },
  "PUT /v1/admin/users/{id}/role": {
    path: `/v1/admin/users/usr_${SOME_ID}/role`,
    body: { role: "clinician" },
    requiredRole: "admin",
  },
  "GET /v1/admin/users": { path: "/v1/admin/users", requiredRole: "admin" },
  "POST /v1/uploads": { path: "/v1/uploads", scope: "uploads:write" },
  "GET /v1/uploads": { path: "/v1/uploads" },
  "GET /v1/uploads/{id}": {
    path: `/v1/uploads/upl_${SOME_ID}`,
    scope: ["user", "uploads:write"],
    foreignPath: async (owner) => (await uploadOk(app, owner, sampleBytes(SAMPLES.Steps))).statusUrl,
  },
  "GET /v1/observations": { path: `/v1/observations?metrics=heart_rate&${RANGE}` },
  "GET /v1/observations/latest": { path: "/v1/observations/latest?metrics=heart_rate" },
  "GET /v1/sleep": { path: `/v1/sleep?${RANGE}` },
  "GET /v1/workouts": { path: `/v1/workouts?${RANGE}` },
  "GET /v1/summary/daily": { path: "/v1/summary/daily?date=2026-01-15" },
  "GET /v1/narratives": { path: "/v1/narratives?period=week&date=2026-01-15&tz=Europe/Paris" },
  "GET /v1/narratives/{id}": { path: `/v1/narratives/nar_${SOME_ID}`, foreignPath: ownedNarrative },
  // Grantee reads: the security cases send no X-Access-Reason, so every case is refused before it is read;
  // another patient's id (404) is covered in sharing-reads.test.ts, where the grant exists.
  "GET /v1/patients/{patientId}/observations": {
    path: `/v1/patients/usr_${SOME_ID}/observations?metrics=heart_rate&${RANGE}`,
    requiredRole: GRANTEE_ROLES,
  },
  "GET /v1/patients/{patientId}/observations/latest": {
    path: `/v1/patients/usr_${SOME_ID}/observations/latest?metrics=heart_rate`,
    requiredRole: GRANTEE_ROLES,
  },
  "GET /v1/patients/{patientId}/sleep": { path: `/v1/patients/usr_${SOME_ID}/sleep?${RANGE}`, requiredRole: GRANTEE_ROLES },
  "GET /v1/patients/{patientId}/workouts": { path: `/v1/patients/usr_${SOME_ID}/workouts?${RANGE}`, requiredRole: GRANTEE_ROLES },
  "GET /v1/patients/{patientId}/summary/daily": {
    path: `/v1/patients/usr_${SOME_ID}/summary/daily?date=2026-01-15`,
    requiredRole: GRANTEE_ROLES,
  },
  "GET /v1/patients/{patientId}/narratives": {
    path: `/v1/patients/usr_${SOME_ID}/narratives?period=day&date=2026-01-15`,
    requiredRole: GRANTEE_ROLES,
  },
  "GET /v1/vault": { path: "/v1/vault" },
  "PUT /v1/vault/{id}": { path: "/v1/vault/note-1", body: VAULT_BLOB },
  "GET /v1/vault/{id}": { path: "/v1/vault/note-1", foreignPath: ownedBlob },
  "DELETE /v1/vault/{id}": { path: "/v1/vault/note-1", foreignPath: ownedBlob },
  "GET /v1/ai/attestation": { path: "/v1/ai/attestation" },
  "GET /v1/connections": { path: "/v1/connections" },
  "POST /v1/connections/{provider}": { path: "/v1/connections/sandbox", body: {} },
  "DELETE /v1/connections/{provider}": { path: "/v1/connections/sandbox", foreignPath: connectedProvider },
  "POST /v1/connections/{provider}/sync": { path: "/v1/connections/sandbox/sync", body: {}, foreignPath: connectedSyncPath },
  "GET /v1/me/access-log": { path: "/v1/me/access-log" },
  "GET /v1/audit/security": { path: "/v1/audit/security", requiredRole: "auditor" },
  "GET /v1/audit/users/{userId}": { path: `/v1/audit/users/usr_${SOME_ID}`, requiredRole: "auditor" },
  "GET /v1/audit/verify": { path: "/v1/audit/verify", requiredRole: "auditor" },
  "POST /v1/me/exports": { path: "/v1/me/exports" },
  "GET /v1/me/exports": { path: "/v1/me/exports" },
  "GET /v1/me/exports/{id}": { path: `/v1/me/exports/exp_${SOME_ID}`, foreignPath: ownedExport },
  "GET /v1/me/export/fhir": { path: "/v1/me/export/fhir?format=ndjson" },
  "POST /v1/ai/query": { path: "/v1/ai/query", body: { question: "What was my average resting heart rate last week?" } },
  "POST /v1/me/grants/invitations": { path: "/v1/me/grants/invitations", body: INVITATION },
  "GET /v1/me/grants/invitations": { path: "/v1/me/grants/invitations" },
  "DELETE /v1/me/grants/invitations/{id}": { path: `/v1/me/grants/invitations/inv_${SOME_ID}`, foreignPath: ownedInvitation },
  "POST /v1/grants/redeem": { path: "/v1/grants/redeem", body: { code: "PLS-0000-0000-0000-0000-0000-0000-0000" } },
  "GET /v1/me/grants": { path: "/v1/me/grants" },
  "DELETE /v1/me/grants/{id}": { path: `/v1/me/grants/grt_${SOME_ID}`, foreignPath: ownedGrant },
  "GET /v1/grants": { path: "/v1/grants" },
  // FHIR: refusals are OperationOutcomes; another user's data is a 404 as everywhere.
  "GET /v1/fhir/Patient/{id}": {
    path: `/v1/fhir/Patient/usr-${SOME_ID}`,
    foreignPath: async (owner) => `/v1/fhir/Patient/${fhirPatient(owner)}`,
  },
  "GET /v1/fhir/Patient": { path: "/v1/fhir/Patient" },
  "GET /v1/fhir/Observation": {
    path: "/v1/fhir/Observation?code=8867-4",
    foreignPath: async (owner) => `/v1/fhir/Observation?patient=${fhirPatient(owner)}&code=8867-4`,
  },
  "GET /v1/fhir/Observation/{id}": { path: "/v1/fhir/Observation/obs-1", foreignPath: ownedFhirObservation },
  "GET /v1/fhir/Device": {
    path: "/v1/fhir/Device",
    foreignPath: async (owner) => `/v1/fhir/Device?patient=${fhirPatient(owner)}`,
  },
  "GET /v1/fhir/Device/{id}": { path: "/v1/fhir/Device/dev-0", foreignPath: ownedFhirDevice },
};

/**
 * Routes that are public on purpose and authenticate their caller another way; each must answer
 * an anonymous caller without a 401 and declare no security requirement in /openapi.json.
 * Provider webhooks: the signature, registered secret or handshake token is the authentication
 * (src/providers/webhooks/routes.ts).
 */
const PUBLIC_ROUTES: Record<string, string> = {
  "POST /webhooks/{provider}": "/webhooks/oura",
  "GET /webhooks/{provider}": "/webhooks/oura",
  // Export downloads: the signed link is the credential (src/exports/signing.ts).
  "GET /v1/exports/{id}/download": `/v1/exports/exp_${SOME_ID}/download`,
};

describe("public routes", () => {
  for (const [route, path] of Object.entries(PUBLIC_ROUTES)) {
    it(`${route} takes no Pulse credential and refuses an unauthenticated request itself`, async () => {
      const [method = "GET"] = route.split(" ");
      const res = await call(app, path, {
        method,
        headers: { "CF-Connecting-IP": testIp(), "Content-Type": "application/json" },
        ...(method === "POST" ? { body: "{}" } : {}),
      });
      // No signature (POST) or no verification token (GET): the provider's own scheme refuses it.
      expect([400, 401]).toContain(res.status);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      const doc = await (await call(app, "/openapi.json")).json<{
        paths: Record<string, Record<string, { security?: unknown[] }>>;
      }>();
      const [, openApiPath = ""] = route.split(" ");
      expect(doc.paths[openApiPath]?.[method.toLowerCase()]?.security).toEqual([]);
    });
  }
});

for (const [route, cases] of Object.entries(SECURITY_CASES)) {
  const [method = ""] = route.split(" ");
  securityCases({ app, method: method as Method, ...cases });
}

/** Hono's `/v1/uploads/:id` as OpenAPI writes it, `/v1/uploads/{id}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

describe("route coverage", () => {
  it("has security cases for exactly the routes that refuse an anonymous caller, and /openapi.json agrees", async () => {
    const routes = new Set(
      app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${openApiPath(route.path)}`),
    );
    const anonymousRefused: string[] = [];
    for (const route of routes) {
      const [method = "GET", path = "/"] = route.split(" ");
      const concrete = path.replace(/\{\w+\}/g, `x_${SOME_ID}`);
      const res = await call(app, concrete, { method, headers: { "CF-Connecting-IP": testIp() } });
      if (res.status === 401) anonymousRefused.push(route);
      await res.body?.cancel();
    }
    // A sanity floor: the probe itself works (identity, uploads, health data, vault, AI all refuse).
    expect(anonymousRefused.length).toBeGreaterThan(20);
    expect(anonymousRefused.sort(), "routes refusing anonymous callers = SECURITY_CASES").toEqual(
      Object.keys(SECURITY_CASES).sort(),
    );

    const doc = await (await call(app, "/openapi.json")).json<{
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
    }>();
    const declared = Object.entries(doc.paths)
      .flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => (operation.security ?? []).length > 0)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(declared, "operations with `security` in /openapi.json = SECURITY_CASES").toEqual(Object.keys(SECURITY_CASES).sort());
  });
});
