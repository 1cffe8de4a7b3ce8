import { registerAdminRoutes } from "../../admin/routes";
import type { App } from "../../http/types";
import { registerPortalRoutes } from "../../portal/routes";
import { registerDeviceRoutes } from "../devices/routes";
import { registerPasskeyRoutes } from "../passkeys/routes";
import { registerSessionRoutes } from "./session-routes";
import { registerTokenRoutes } from "./token-routes";

/** Identity route families (DESIGN §4): ceremonies, tokens, sessions, devices, roles, the portal. */
export function registerAuthRoutes(app: App): void {
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
  registerPasskeyRoutes(app);
  registerTokenRoutes(app);
  registerSessionRoutes(app);
  registerDeviceRoutes(app);
  registerAdminRoutes(app);
  registerPortalRoutes(app);
}
