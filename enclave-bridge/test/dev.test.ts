// The local development identity: one root kept across restarts (so the pinned fingerprint stays
// valid), replaced when damaged, and PCRs that follow the enclave's source like a real image's.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { developmentEnclave, sourceIdentity } from "../src/dev.ts";

describe("developmentEnclave", () => {
  it("keeps one root per state directory, readable by its owner only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-dev-root-"));
    const first = await developmentEnclave(dir, "image-a");
    const second = await developmentEnclave(dir, "image-a");
    assert.equal(second.rootSha256, first.rootSha256);
    assert.deepEqual(second.pcrs, first.pcrs);
    assert.equal(statSync(join(dir, "development-root.json")).mode & 0o777, 0o600);
    const other = await developmentEnclave(mkdtempSync(join(tmpdir(), "pulse-dev-root-")), "image-a");
    assert.notEqual(other.rootSha256, first.rootSha256);
  });

  it("replaces a damaged root instead of failing to start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-dev-root-"));
    const first = await developmentEnclave(dir, "image-a");
    writeFileSync(join(dir, "development-root.json"), JSON.stringify({ certificatePem: "nope", privateKeyPem: "nope" }));
    const replaced = await developmentEnclave(dir, "image-a");
    assert.notEqual(replaced.rootSha256, first.rootSha256);
    assert.match(readFileSync(join(dir, "development-root.json"), "utf8"), /BEGIN CERTIFICATE/);
  });

  it("derives different PCRs from a different image, and the image identity from the source", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-dev-root-"));
    const a = await developmentEnclave(dir, "image-a");
    const b = await developmentEnclave(dir, "image-b");
    assert.notEqual(a.pcrs[0], b.pcrs[0]);
    assert.match(sourceIdentity(), /^[0-9a-f]{96}$/);
    const src = mkdtempSync(join(tmpdir(), "pulse-dev-src-"));
    writeFileSync(join(src, "app.ts"), "export const a = 1;\n");
    const before = sourceIdentity(src);
    writeFileSync(join(src, "app.ts"), "export const a = 2;\n");
    assert.notEqual(sourceIdentity(src), before);
  });
});
