/**
 * The FHIR mapping runs inside workerd as it does in Node (test/node/fhir-resources.test.ts
 * validates the shapes): the device hash (BigInt, TextEncoder) and the offset-aware times give the
 * same answers in the Worker runtime.
 */
import { describe, expect, it } from "vitest";
import { capabilityStatement, deviceId, deviceResource, sampleObservation } from "../../src/fhir/resources";

const CTX = { baseUrl: "https://api.pulse.example/v1/fhir", userId: "usr_abcdefghijklmnopqrstuvwxyz" };

describe("FHIR mapping in workerd", () => {
  it("hashes device names to the FNV-1a reference values and builds the same resources", () => {
    expect(deviceId("a")).toBe("dev-af63dc4c8601ec8c");
    expect(deviceId("foobar")).toBe("dev-85944171f73967e8");
    expect(deviceResource({ name: "Pixel Watch 2" }, CTX).id).toMatch(/^dev-[0-9a-f]{16}$/);
    const observation = sampleObservation(
      {
        id: 3,
        metric: "height",
        start: Date.UTC(2026, 2, 1, 6),
        end: Date.UTC(2026, 2, 1, 6),
        value: 1.8,
        unit: "m",
        sourceKind: "upload",
        sourceApp: "com.example.scale",
        device: "Scale",
        sourceRecordId: "r-1",
        zoneOffsetSeconds: -18_000,
        localDate: "2026-03-01",
        flagged: false,
        version: 0,
      },
      CTX,
    );
    expect(observation.effectiveDateTime).toBe("2026-03-01T01:00:00.000-05:00");
    expect(observation.valueQuantity).toEqual({ value: 180, unit: "cm", system: "http://unitsofmeasure.org", code: "cm" });
    expect(observation.device?.reference).toBe(`Device/${deviceId("Scale")}`);
    expect(capabilityStatement(CTX.baseUrl, { version: "0.1.0" }).fhirVersion).toBe("4.0.1");
  });
});
