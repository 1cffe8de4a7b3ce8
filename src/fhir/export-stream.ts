/**
 * A person's data as FHIR R4, streamed: a `collection` Bundle (Patient first, then every
 * Observation, then the Devices) or NDJSON with one resource a line, as FHIR Bulk Data files are
 * (https://hl7.org/fhir/uv/bulkdata/). The HealthStore builds each page's resources as text
 * (durable-objects/health-store/fhir-export.ts); this module strings the pages together and is
 * read by both the streamed route and the account archive's `fhir/bundle.json`, so both carry the
 * same resources.
 *
 * Nothing is held whole: a page is read only when the reader asks for more (a pull stream with a
 * high-water mark of one page), so a slow client slows the store's reads instead of filling memory.
 */
import type { HealthStoreClient } from "../../durable-objects/health-store/client";
import type { FhirExportPartRef } from "../../durable-objects/health-store/fhir-export";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { errorName, log } from "../observability/log";
import { exportHead, exportTail, type FhirExportFormat } from "./export-format";
import { type PatientFacts, patientResource } from "./resources";

/** Resources per store read: ~1-2 MB of JSON for minute samples. */
const PAGE_RESOURCES = 2_000;

export const FHIR_NDJSON = "application/fhir+ndjson";

export interface FhirExportOptions {
  exportId: string;
  format: FhirExportFormat;
  /** The FHIR base, e.g. `https://api.pulse.example/v1/fhir`, no trailing slash. */
  baseUrl: string;
  patient: PatientFacts;
  /** Samples starting in [since, until), sessions overlapping it (epoch ms); open when absent. */
  since?: number | undefined;
  until?: number | undefined;
  audit: StoreAuditContext;
}

/** A started export: the plan is read (and audited), so errors until here are the caller's to answer. */
export interface OpenedFhirExport {
  parts: FhirExportPartRef[];
  chunks: AsyncGenerator<string>;
}

/**
 * Reads the export's plan from the store, then returns its text as an async sequence of chunks.
 * Anything that fails here (a refused argument, a store that cannot answer) fails before a byte
 * is sent; later failures surface from the sequence.
 */
export async function openFhirExport(store: HealthStoreClient, options: FhirExportOptions): Promise<OpenedFhirExport> {
  const scope = { exportId: options.exportId, baseUrl: options.baseUrl, since: options.since, until: options.until };
  const parts = await store.fhirExportPlan(scope, options.audit);
  return { parts, chunks: exportChunks(store, options, parts) };
}

async function* exportChunks(
  store: HealthStoreClient,
  options: FhirExportOptions,
  parts: readonly FhirExportPartRef[],
): AsyncGenerator<string> {
  const patient = patientResource(options.patient, { baseUrl: options.baseUrl, userId: options.patient.userId });
  yield exportHead(options.format, options.exportId, options.baseUrl, patient);
  for (const ref of parts) {
    let cursor: string | undefined;
    do {
      const page = await store.fhirExportPage(
        {
          ...ref,
          exportId: options.exportId,
          baseUrl: options.baseUrl,
          since: options.since,
          until: options.until,
          format: options.format,
          limit: PAGE_RESOURCES,
          cursor,
        },
        options.audit,
      );
      if (page.text !== "") yield page.text;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
  const tail = exportTail(options.format);
  if (tail !== "") yield tail;
}

/**
 * The chunks as a byte stream read on demand. A failure mid-way errors the stream, which aborts
 * the response: the client sees a broken transfer, never a file that merely looks complete.
 */
export function pullStream(chunks: AsyncGenerator<string>, context: { requestId: string | null }): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (error) {
          log("error", "FHIR export failed mid-stream; response aborted", {
            requestId: context.requestId,
            error: errorName(error),
          });
          controller.error(error);
        }
      },
      async cancel() {
        // The client went away: stop reading pages.
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
