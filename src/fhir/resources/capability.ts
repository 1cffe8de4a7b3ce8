/**
 * The server's CapabilityStatement (`GET /v1/fhir/metadata`): what a FHIR client may ask of
 * Pulse. Read-only, JSON only, bearer tokens. Kept beside the mappings so the profiles it claims
 * are the ones the Observations carry.
 */
import type { CapabilityStatement, CapabilityStatementRestResourceSearchParam } from "@medplum/fhirtypes";
import { BLOOD_PRESSURE_PROFILE, VITAL_SIGNS_PROFILE } from "./metric-codes";

/** When what this statement says last changed (a FHIR CapabilityStatement must carry a date). */
const STATEMENT_DATE = "2026-12-07";
const SEARCH_PARAMETER = "http://hl7.org/fhir/SearchParameter/";
const PROFILED = ["heartrate", "resprate", "bodytemp", "bodyweight", "bodyheight", "oxygensat"].map(
  (id) => `http://hl7.org/fhir/StructureDefinition/${id}`,
);

/** Pulse's parameter for hourly summaries: `_summary` means something else in FHIR. */
export const RESOLUTION_PARAMETER = "resolution";

const OBSERVATION_SEARCH: CapabilityStatementRestResourceSearchParam[] = [
  {
    name: "patient",
    definition: `${SEARCH_PARAMETER}clinical-patient`,
    type: "reference",
    documentation: "Patient/<id> or the bare id; a person reads their own, a grantee a patient who shared with them",
  },
  {
    name: "subject",
    definition: `${SEARCH_PARAMETER}Observation-subject`,
    type: "reference",
    documentation: "The same as patient (give one of them)",
  },
  {
    name: "code",
    definition: `${SEARCH_PARAMETER}clinical-code`,
    type: "token",
    documentation:
      "LOINC (http://loinc.org|8867-4) or Pulse's metric code (https://pulse.health/fhir/CodeSystem/metric|heart_rate)",
  },
  {
    name: "category",
    definition: `${SEARCH_PARAMETER}Observation-category`,
    type: "token",
    documentation: "vital-signs, activity, laboratory, or a Pulse sharing category",
  },
  {
    name: "date",
    definition: `${SEARCH_PARAMETER}clinical-date`,
    type: "date",
    documentation:
      "Prefixes eq, lt, le, gt, ge, sa, eb with FHIR precision; repeat for a range (date=ge2026-01-01&date=lt2026-02-01)",
  },
  { name: "_count", type: "number", documentation: "Page size, 1-1000 (default 50)" },
  { name: "_sort", type: "string", documentation: "date or -date" },
  {
    name: RESOLUTION_PARAMETER,
    type: "token",
    documentation:
      "raw (default): stored samples; hour: one Observation per hour of a series (mean or total, with minimum, maximum and count)",
  },
  { name: "_cursor", type: "string", documentation: "Opaque: follow the searchset Bundle's next link as given" },
  { name: "_format", type: "token", documentation: "json, application/json or application/fhir+json" },
];

export function capabilityStatement(baseUrl: string, software: { version: string }): CapabilityStatement {
  return {
    resourceType: "CapabilityStatement",
    status: "active",
    date: STATEMENT_DATE,
    publisher: "Pulse",
    description: "Pulse's read-only FHIR R4 API: a person's health data as Patient, Observation and Device resources.",
    kind: "instance",
    software: { name: "Pulse", version: software.version },
    implementation: { description: "Pulse FHIR R4 API", url: baseUrl },
    fhirVersion: "4.0.1",
    format: ["application/fhir+json"],
    rest: [
      {
        mode: "server",
        security: {
          cors: true,
          description:
            "Every request carries `Authorization: Bearer <access token>`: a Pulse access token (a 15-minute ES256 JWT from " +
            "passkey sign-in). A person reads their own data; clinicians and researchers read what a patient shared with them " +
            "and send X-Access-Reason. Device upload credentials are refused.",
        },
        resource: [
          {
            type: "Patient",
            profile: "http://hl7.org/fhir/StructureDefinition/Patient",
            interaction: [{ code: "read" }, { code: "search-type" }],
            searchParam: [
              {
                name: "_id",
                definition: `${SEARCH_PARAMETER}Resource-id`,
                type: "token",
                documentation: "usr-…; yourself by default",
              },
            ],
          },
          {
            type: "Observation",
            profile: "http://hl7.org/fhir/StructureDefinition/Observation",
            supportedProfile: [VITAL_SIGNS_PROFILE, BLOOD_PRESSURE_PROFILE, ...PROFILED],
            interaction: [{ code: "read" }, { code: "search-type" }],
            searchParam: OBSERVATION_SEARCH,
          },
          {
            type: "Device",
            profile: "http://hl7.org/fhir/StructureDefinition/Device",
            interaction: [{ code: "read" }, { code: "search-type" }],
            searchParam: [{ name: "patient", definition: `${SEARCH_PARAMETER}Device-patient`, type: "reference" }],
          },
        ],
      },
    ],
  };
}
