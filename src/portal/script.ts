import { PORTAL_APP_SCRIPT } from "./script/portal-app";
import { WEBAUTHN_JSON_SCRIPT } from "./script/webauthn-json";

/**
 * /portal/app.js: passkey sign-up and sign-in in a few hundred lines of dependency-free browser
 * code. A bundled client library would need a build step for one demo page.
 */
export const PORTAL_SCRIPT = `"use strict";\n(() => {${WEBAUTHN_JSON_SCRIPT}${PORTAL_APP_SCRIPT}})();\n`;
