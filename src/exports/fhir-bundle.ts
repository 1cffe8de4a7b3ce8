import { getConfig } from "../config/config";
import { openFhirExport } from "../fhir/export-stream";
import { FHIR_PATH_PREFIX } from "../http/operation-outcome";
import type { ArchiveSection } from "./archive-readme";

/**
 * `fhir/bundle.json` of the account archive: the whole store as one FHIR R4 `collection` Bundle,
 * from the same generator as `GET /v1/me/export/fhir` (src/fhir/export-stream.ts), streamed into
 * the ZIP page by page. The job has no request to take an origin from; references use the API's
 * own origin, the issuer of its tokens (JWT_ISSUER), which is where `/v1/fhir` answers.
 */
export const FHIR_BUNDLE_PATH = "fhir/bundle.json";

export const writeFhirBundle: ArchiveSection = async (ctx, archive) => {
  const baseUrl = `${new URL(getConfig(ctx.env).JWT_ISSUER).origin}${FHIR_PATH_PREFIX}`;
  const { chunks } = await openFhirExport(ctx.store, {
    exportId: ctx.row.id,
    format: "bundle",
    baseUrl,
    patient: { userId: ctx.user.id, displayName: ctx.user.displayName },
    audit: ctx.audit,
  });
  await archive.addFile(FHIR_BUNDLE_PATH, chunks, { count: 1 });
};
