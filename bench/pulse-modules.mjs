// Pulse's own TypeScript (the Avro reader and writer, the Health Connect mapping) loaded into Node
// for the bench: bundled with esbuild the way wrangler bundles the Worker, so Node runs the very
// code the Worker runs. Bundled once per process into a temporary file, then imported.
import { bundleForNode } from "../scripts/bundle-for-node.mjs";

const ENTRY = `
export * from "./src/avro/index.ts";
export { mapRecords } from "./src/health-connect/map-record.ts";
export { readerSchemaFor, recordTypeFromSchemaName } from "./src/health-connect/record-types.ts";
`;

let loaded;

/** `{ openContainer, createDecoder, parseSchema, writeContainer, encodeDatum, mapRecords, readerSchemaFor, … }` */
export function loadPulseModules() {
  loaded ??= bundle();
  return loaded;
}

function bundle() {
  return bundleForNode(ENTRY);
}
