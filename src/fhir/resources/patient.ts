/**
 * The person, minimal on purpose: an id and, only if they chose one, the name they asked to be
 * shown by. Pulse holds no birth date, sex or address, and a FHIR reader gets nothing more
 * identifying than what the person put there themselves.
 */
import type { Patient } from "@medplum/fhirtypes";
import { patientId } from "../ids";
import type { FhirContext } from "./common";

export interface PatientFacts {
  userId: string;
  displayName: string | null;
}

export function patientResource(facts: PatientFacts, ctx: FhirContext): Patient {
  void ctx;
  const name = facts.displayName?.trim() ?? "";
  return {
    resourceType: "Patient",
    id: patientId(facts.userId),
    active: true,
    ...(name === "" ? {} : { name: [{ use: "usual", text: name }] }),
  };
}
