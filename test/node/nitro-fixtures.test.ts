// The workerd attestation tests use embedded copies of ../shared/data/nitro; this keeps them honest.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AWS_NITRO_ROOT_G1_PEM,
  NITRO_ATTESTATION_B64,
  NITRO_ATTESTATION_DEBUG_B64,
  SELFSIGNED_ATTESTATION_B64,
} from "../worker/helpers/nitro-fixtures";

const dir = resolve(import.meta.dirname, "../../../shared/data/nitro");
const read = (name: string) => readFileSync(resolve(dir, name), "utf8");

describe("embedded Nitro fixtures", () => {
  it("match the shared contract files byte for byte", () => {
    expect(NITRO_ATTESTATION_B64).toBe(read("nitro_attestation.b64").trim());
    expect(NITRO_ATTESTATION_DEBUG_B64).toBe(read("nitro_attestation_debug.b64").trim());
    expect(SELFSIGNED_ATTESTATION_B64).toBe(read("selfsigned_attestation.b64").trim());
    expect(AWS_NITRO_ROOT_G1_PEM).toBe(read("aws-nitro-root-g1.pem"));
  });
});
