import { OpenAPIHono } from "@hono/zod-openapi";
import { registerAccessLogRoutes } from "./access-log/routes";
import { registerAdminRoutes } from "./admin/routes";
import { registerAiRoutes } from "./ai/routes";
import { registerAuditVerifyRoutes } from "./auditor/verify-routes";
import { registerDeviceRoutes } from "./auth/devices/routes";
import { registerPasskeyRoutes } from "./auth/passkeys/routes";
import { registerSessionRoutes } from "./auth/routes/session-routes";
import { registerTokenRoutes } from "./auth/routes/token-routes";
import { registerConsentRoutes } from "./consent/routes";
import { registerDeletionRoutes } from "./deletion/routes";
import { registerExportRoutes } from "./exports/routes";
import { registerFhirExportRoutes } from "./fhir/export-routes";
import { registerFhirRoutes } from "./fhir/routes";
import { registerHealthRoutes } from "./health/routes";
import { notFoundHandler, onError } from "./http/error-handler";
import { accessLog } from "./http/middleware/access-log";
import { bodyLimits } from "./http/middleware/body";
import { withConfig } from "./http/middleware/config";
import { cors } from "./http/middleware/cors";
import { requestId } from "./http/middleware/request-id";
import { securityHeaders } from "./http/middleware/security-headers";
import { OPENAPI_DOCUMENT, registerSecuritySchemes } from "./http/openapi";
import { authenticatedRoutes } from "./http/secured-routes";
import type { App, AppEnv } from "./http/types";
import { validationHook } from "./http/validation";
import { registerNarrativeRoutes } from "./narratives/routes";
import { registerObservationRoutes } from "./observations/routes";
import { CONNECT_CONFIRM_BODY_RULE, registerConnectionRoutes } from "./providers/routes";
import { registerWebhookRoutes, WEBHOOK_BODY_RULES, WEBHOOK_IP_LIMIT } from "./providers/webhooks/routes";
import { ipAbuseLimit } from "./rate-limit/ip-limit";
import { registerPatientRoutes } from "./sharing/patient-routes";
import { registerSharingRoutes } from "./sharing/routes";
import { UPLOAD_BODY_RULE } from "./uploads/body-rule";
import { registerUploadRoutes } from "./uploads/routes";
import { registerVaultRoutes } from "./vault/routes";
import { registerWebRoutes } from "./web/routes";

/**
 * Builds the Hono application: middleware in the order every request crosses it, then the route
 * families. Each domain registers its routes through a `register*Routes(app)` function, all of them
 * here, so this list is every route family the API has.
 */
export function createApp(): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use("*", requestId(), accessLog(), securityHeaders(), withConfig(), cors());
  app.use(
    "*",
    bodyLimits({
      defaultMaxBytes: (c) => c.var.config.MAX_JSON_BODY_BYTES,
      rules: [UPLOAD_BODY_RULE, CONNECT_CONFIRM_BODY_RULE, ...WEBHOOK_BODY_RULES],
      authenticated: authenticatedRoutes(app),
    }),
  );
  app.use("/v1/*", ipAbuseLimit());
  // Providers' webhooks have their own, much higher per-IP limit (src/providers/webhooks/routes.ts).
  app.use("/webhooks/*", ipAbuseLimit(WEBHOOK_IP_LIMIT));

  registerSecuritySchemes(app);
  registerHealthRoutes(app);
  // The web app and the API reference at /docs (web/, DESIGN §10): pages and hashed files from the
  // Workers static assets.
  registerWebRoutes(app);
  // Identity (DESIGN §4): passkey ceremonies and recovery, tokens, sessions, devices, roles.
  registerPasskeyRoutes(app);
  registerTokenRoutes(app);
  registerSessionRoutes(app);
  registerDeviceRoutes(app);
  registerAdminRoutes(app);
  // Consent (DESIGN §8): the person's acceptance of the terms and privacy notice, and /legal pages.
  registerConsentRoutes(app);
  // Account deletion (DESIGN §8): passkey-confirmed, then a resumable job.
  registerDeletionRoutes(app);
  registerUploadRoutes(app);
  registerObservationRoutes(app);
  // Clinical narratives (DESIGN §5): a day or week in sentences, stored and regenerated after new data.
  registerNarrativeRoutes(app);
  // Consented sharing (DESIGN §8): a grantee's reads of a patient's data, within their grant.
  registerPatientRoutes(app);
  registerVaultRoutes(app);
  registerAiRoutes(app);
  // Who saw what (DESIGN §8): the person's access log and the auditor's reads of the audit chains.
  registerAccessLogRoutes(app);
  // Provider connections (DESIGN §7): the /v1/connections API and the /oauth pages of the flow.
  registerConnectionRoutes(app);
  // Providers (DESIGN §7): incoming webhooks.
  registerWebhookRoutes(app);
  // Consented sharing (DESIGN §8): invitations, redemption, the patient's and the grantee's grants.
  registerSharingRoutes(app);
  // Audit (DESIGN §8): verification of the sealed audit chains, for auditors.
  registerAuditVerifyRoutes(app);
  // Export (DESIGN §8): a person's whole account as an archive, and its signed download link.
  registerExportRoutes(app);
  // FHIR bulk export (DESIGN §8): the person's data as a streamed FHIR R4 Bundle or NDJSON.
  registerFhirExportRoutes(app);
  // FHIR R4 (DESIGN §8): metadata, Patient, Observation search and read, Device, as OperationOutcome on error.
  registerFhirRoutes(app);

  app.doc31("/openapi.json", OPENAPI_DOCUMENT);

  app.notFound(notFoundHandler(app));
  app.onError(onError);
  return app;
}
