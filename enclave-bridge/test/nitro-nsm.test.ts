import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { type CborValue, decodeCbor, NitroNsm, NitroNsmError, SimulatedNsm } from "../src/nsm/index.ts";

const FAKE_HELPER = new URL("fixtures/fake-nsm-helper.mjs", import.meta.url).pathname;
const MISBEHAVING_HELPER = new URL("fixtures/misbehaving-nsm-helper.mjs", import.meta.url).pathname;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("NitroNsm", () => {
  let dir: string;
  let simulated: SimulatedNsm;

  before(async () => {
    // Git keeps the executable bit, but a checkout that lost it should not fail for that reason.
    await Promise.all([chmod(FAKE_HELPER, 0o755), chmod(MISBEHAVING_HELPER, 0o755)]);
    dir = await mkdtemp(join(tmpdir(), "pulse-nitro-nsm-"));
    process.env.FAKE_NSM_DIR = dir;
    simulated = await SimulatedNsm.create({ imageIdentity: "pulse-enclave@nitro-nsm-test" });
    await writeFile(join(dir, "pcrs.json"), JSON.stringify(await simulated.describePcrs()));
  });

  beforeEach(async () => {
    await writeFile(join(dir, "calls.jsonl"), "");
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function calls(): Promise<string[][]> {
    const lines = (await readFile(join(dir, "calls.jsonl"), "utf8")).split("\n").filter((line) => line !== "");
    return lines.map((line) => JSON.parse(line) as string[]);
  }

  it("returns the document the helper printed, having passed the request as hex arguments", async () => {
    const publicKey = webcrypto.getRandomValues(new Uint8Array(1024));
    const nonce = webcrypto.getRandomValues(new Uint8Array(32));
    const printed = await simulated.getAttestationDocument({ publicKey, nonce });
    await writeFile(join(dir, "document.bin"), printed);

    const document = await new NitroNsm({ helperPath: FAKE_HELPER }).getAttestationDocument({ publicKey, nonce });

    assert.deepEqual(document, printed);
    assert.deepEqual(await calls(), [["attest", "--public-key", hex(publicKey), "--nonce", hex(nonce)]]);
    const [, , payload] = decodeCbor(document) as CborValue[];
    assert.ok(payload instanceof Uint8Array);
    const fields = decodeCbor(payload);
    assert.ok(fields instanceof Map);
    assert.deepEqual(fields.get("nonce"), nonce);
  });

  it("passes user data, and no flags for an empty request", async () => {
    await writeFile(join(dir, "document.bin"), await simulated.getAttestationDocument({}));
    const nsm = new NitroNsm({ helperPath: FAKE_HELPER });
    await nsm.getAttestationDocument({ userData: Uint8Array.of(0xca, 0xfe) });
    await nsm.getAttestationDocument({});
    assert.deepEqual(await calls(), [["attest", "--user-data", "cafe"], ["attest"]]);
  });

  it("returns the PCRs the helper described", async () => {
    const pcrs = await new NitroNsm({ helperPath: FAKE_HELPER }).describePcrs();
    assert.deepEqual(pcrs, await simulated.describePcrs());
    assert.deepEqual(await calls(), [["describe-pcrs"]]);
  });

  it("refuses oversize fields without spawning the helper", async () => {
    const nsm = new NitroNsm({ helperPath: FAKE_HELPER });
    await assert.rejects(nsm.getAttestationDocument({ publicKey: new Uint8Array(1025) }), /public_key exceeds 1024 bytes/);
    await assert.rejects(nsm.getAttestationDocument({ nonce: new Uint8Array(513) }), /nonce exceeds 512 bytes/);
    await assert.rejects(nsm.getAttestationDocument({ userData: new Uint8Array(513) }), /user_data exceeds 512 bytes/);
    assert.deepEqual(await calls(), []);
  });

  describe("with a helper that misbehaves", () => {
    const nonce = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);

    async function assertFails(behaviour: string, expected: RegExp, options: { timeoutMs?: number } = {}): Promise<void> {
      process.env.FAKE_NSM_BEHAVIOUR = behaviour;
      const nsm = new NitroNsm({ helperPath: MISBEHAVING_HELPER, maxOutputBytes: 64 * 1024, ...options });
      await assert.rejects(nsm.getAttestationDocument({ nonce }), (error: unknown) => {
        assert.ok(error instanceof NitroNsmError, `expected a NitroNsmError, got ${String(error)}`);
        assert.match(error.message, expected);
        assert.ok(!error.message.includes(hex(nonce)), "the error does not echo the arguments");
        return true;
      });
    }

    it("names the exit status contract, not the output", async () => {
      await assertFails("exit-3", /^NSM helper attest could not open \/dev\/nsm$/);
      await assertFails("exit-4", /refused by the NSM/);
      await assertFails("exit-1", /exit status 1$/);
    });

    it("rejects output that is not a COSE_Sign1 document", async () => {
      await assertFails("garbage", /malformed attestation document/);
    });

    it("rejects PCRs that are not JSON or not 48-byte hex", async () => {
      for (const behaviour of ["garbage", "bad-pcrs"]) {
        process.env.FAKE_NSM_BEHAVIOUR = behaviour;
        await assert.rejects(new NitroNsm({ helperPath: MISBEHAVING_HELPER }).describePcrs(), /describe-pcrs printed malformed/);
      }
    });

    it("stops reading past the output limit", async () => {
      await assertFails("flood", /printed more than 65536 bytes/);
    });

    it("kills a helper that hangs", { timeout: 5_000 }, async () => {
      await assertFails("hang", /timeout after 200 ms/, { timeoutMs: 200 });
    });

    it("reports a missing helper", async () => {
      const nsm = new NitroNsm({ helperPath: join(dir, "no-such-helper") });
      await assert.rejects(nsm.describePcrs(), /NSM helper describe-pcrs not found at/);
    });
  });
});
