/**
 * The text of a FHIR export (./export-stream.ts), pure: a Bundle is written as its head, one
 * entry after another, and its tail, so it can be streamed without ever being one object, and
 * each page of entries is built where the rows are (the HealthStore) and sent as one string.
 *
 *   bundle   {"resourceType":"Bundle",…,"entry":[\n<Patient entry>  then ",\n<entry>" each  then "\n]}\n"
 *   ndjson   one resource a line, as FHIR Bulk Data files are (https://hl7.org/fhir/uv/bulkdata/)
 */
import type { Bundle, Patient } from "@medplum/fhirtypes";

export const FHIR_EXPORT_FORMATS = ["ndjson", "bundle"] as const;
export type FhirExportFormat = (typeof FHIR_EXPORT_FORMATS)[number];

export const BUNDLE_TAIL = "\n]}\n";

/** The Bundle up to and including its first entry, the Patient; the NDJSON's first line. */
export function exportHead(
  format: FhirExportFormat,
  exportId: string,
  baseUrl: string,
  patient: Patient,
  now = new Date(),
): string {
  if (format === "ndjson") return `${JSON.stringify(patient)}\n`;
  const head: Bundle = {
    resourceType: "Bundle",
    // FHIR ids admit no underscore.
    id: exportId.replaceAll("_", "-"),
    type: "collection",
    timestamp: now.toISOString(),
  };
  const entry = { fullUrl: `${baseUrl}/Patient/${patient.id ?? ""}`, resource: patient };
  return `${JSON.stringify(head).slice(0, -1)},"entry":[\n${JSON.stringify(entry)}`;
}

export function exportTail(format: FhirExportFormat): string {
  return format === "bundle" ? BUNDLE_TAIL : "";
}

/** A page of resources after the head: NDJSON lines, or Bundle entries each preceded by ",\n". */
export class FhirPageWriter {
  text = "";
  count = 0;
  readonly #format: FhirExportFormat;
  readonly #baseUrl: string;

  constructor(format: FhirExportFormat, baseUrl: string) {
    this.#format = format;
    this.#baseUrl = baseUrl;
  }

  add(resource: { resourceType: string; id?: string | undefined }): void {
    this.count += 1;
    if (this.#format === "ndjson") {
      this.text += `${JSON.stringify(resource)}\n`;
      return;
    }
    const fullUrl = `${this.#baseUrl}/${resource.resourceType}/${resource.id ?? ""}`;
    this.text += `,\n${JSON.stringify({ fullUrl, resource })}`;
  }
}
