import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Bundle, CapabilityStatement, Observation } from "@medplum/fhirtypes";
import { Client } from "fhir-kit-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { store } from "./helpers/fhir";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";

/**
 * A maintained FHIR client (fhir-kit-client) against the Worker's FHIR API: every request the
 * client makes goes through the real application (its fetch is routed to it), so what is tested
 * is what a FHIR client reads: metadata, a search followed page by page, a read by id.
 */
const app = createTestApp();
const BASE = "https://pulse.test/v1/fhir";

function clientOf(user: SessionUser | null): Client {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    return app.fetch(request, env, createExecutionContext());
  });
  return new Client({ baseUrl: BASE, ...(user === null ? {} : { customHeaders: user.headers }) });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("fhir-kit-client", () => {
  it("reads the CapabilityStatement", async () => {
    const statement = (await clientOf(null).capabilityStatement()) as unknown as CapabilityStatement;
    expect(statement).toMatchObject({ resourceType: "CapabilityStatement", fhirVersion: "4.0.1" });
  });

  it("searches with paging to the end and reads one result by id", async () => {
    const user = await createSessionUser();
    const start = Date.parse("2026-01-15T00:00:00Z");
    const observations = Array.from({ length: 25 }, (_, i) =>
      observationInput("blood_glucose", "mg/dL", start + i * 300_000, 90 + i),
    );
    await store(user.user.id, { observations });
    const client = clientOf(user);
    const values: number[] = [];
    let pages = 0;
    type Page = Parameters<Client["nextPage"]>[0]["bundle"];
    let bundle: Page | undefined = (await client.search({
      resourceType: "Observation",
      searchParams: { code: "http://loinc.org|2339-0", date: ["ge2026-01-15", "lt2026-01-16"], _count: 10 },
    })) as Page;
    while (bundle !== undefined) {
      pages += 1;
      for (const entry of (bundle as unknown as Bundle).entry ?? [])
        values.push((entry.resource as Observation).valueQuantity?.value ?? Number.NaN);
      bundle = (await client.nextPage({ bundle })) as Page | undefined;
    }
    expect(pages).toBe(3);
    expect(values).toEqual(Array.from({ length: 25 }, (_, i) => 90 + i));

    const first = (await client.search({
      resourceType: "Observation",
      searchParams: { code: "2339-0", _count: 1 },
    })) as unknown as Bundle;
    const id = first.entry?.[0]?.resource?.id ?? "";
    const read = (await client.read({ resourceType: "Observation", id })) as unknown as Observation;
    expect(read).toEqual(first.entry?.[0]?.resource);
    await expect(client.read({ resourceType: "Observation", id: "obs-0" })).rejects.toMatchObject({
      response: { status: 404, data: { resourceType: "OperationOutcome" } },
    });
  });
});
