import { OpenAPIHono } from "@hono/zod-openapi";
import { registerAiRoutes } from "./ai/routes";
import { registerAuthRoutes } from "./auth/routes";
import { registerDocsRoutes } from "./docs/routes";
import { registerHealthRoutes } from "./health/routes";
import { notFoundHandler, onError } from "./http/error-handler";
import { accessLog } from "./http/middleware/access-log";
import { bodyLimits } from "./http/middleware/body";
import { withConfig } from "./http/middleware/config";
import { cors } from "./http/middleware/cors";
import { requestId } from "./http/middleware/request-id";
import { securityHeaders } from "./http/middleware/security-headers";
import { authenticatedRoutes } from "./http/secured-routes";
import type { App, AppEnv } from "./http/types";
import { validationHook } from "./http/validation";
import { registerObservationRoutes } from "./observations/routes";
import { ipAbuseLimit } from "./rate-limit/ip-limit";
import { UPLOAD_BODY_RULE } from "./uploads/body-rule";
import { registerUploadRoutes } from "./uploads/routes";
import { registerVaultRoutes } from "./vault/routes";

/**
 * Builds the Hono application: middleware in the order every request crosses it, then the route
 * families. Each domain registers its routes through a `register*Routes(app)` function.
 */
export function createApp(): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use("*", requestId(), accessLog(), securityHeaders(), withConfig(), cors());
  app.use(
    "*",
    bodyLimits({
      defaultMaxBytes: (c) => c.var.config.MAX_JSON_BODY_BYTES,
      rules: [UPLOAD_BODY_RULE],
      authenticated: authenticatedRoutes(app),
    }),
  );
  app.use("/v1/*", ipAbuseLimit());

  registerHealthRoutes(app);
  registerDocsRoutes(app);
  registerAuthRoutes(app);
  registerUploadRoutes(app);
  registerObservationRoutes(app);
  registerVaultRoutes(app);
  registerAiRoutes(app);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Pulse API",
      version: "0.1.0",
      description: "Health data you own: passkey sign-in, uploads, providers, FHIR export, consented sharing, audited access.",
    },
  });

  app.notFound(notFoundHandler(app));
  app.onError(onError);
  return app;
}
