import { OPERATIONS_VIEW_SCRIPT } from "./script/operations-view";
import { SCHEMA_VIEW_SCRIPT } from "./script/schema-view";

/**
 * /docs/app.js: a dependency-free renderer for /openapi.json. Swagger UI and Scalar load from CDNs
 * and inject inline styles, which the CSP (script-src/style-src 'self') and offline machines rule out.
 */
export const DOCS_SCRIPT = `"use strict";\n(() => {${SCHEMA_VIEW_SCRIPT}${OPERATIONS_VIEW_SCRIPT}})();\n`;
