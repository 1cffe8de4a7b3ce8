import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decryptNote, deriveKeyBytes, encryptNote, V1_ITERATIONS, VaultError, v1Salt } from "../../sdk/vault/index";

interface V1Vector {
  inputs: { email: string; normalizedEmail: string; password: string; iterations: number; data: unknown; ivHex: string };
  saltHex: string;
  derivedKeyHex: string;
  encryptedData: Record<string, unknown>;
}

const vector = JSON.parse(
  readFileSync(new URL("../../../shared/data/vault/blob-v1-test-vector.json", import.meta.url), "utf8"),
) as V1Vector;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

async function refusal(promise: Promise<unknown>): Promise<VaultError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VaultError);
  return error as VaultError;
}

describe("vault SDK: v1 interop vector", () => {
  it("derives the vector's salt and key from the email and password", async () => {
    const salt = await v1Salt(vector.inputs.email);
    expect(hex(salt)).toBe(vector.saltHex);
    expect(vector.inputs.iterations).toBe(V1_ITERATIONS);
    expect(hex(await deriveKeyBytes(vector.inputs.password, salt, V1_ITERATIONS))).toBe(vector.derivedKeyHex);
  });

  it("decrypts the v1 blob to exactly its plaintext", async () => {
    const note = await decryptNote(vector.inputs.password, vector.encryptedData, { email: vector.inputs.email });
    expect(note).toStrictEqual(vector.inputs.data);
  });

  it("asks for the email a v1 blob needs, and refuses a wrong password or email", async () => {
    expect((await refusal(decryptNote(vector.inputs.password, vector.encryptedData))).code).toBe("EMAIL_REQUIRED");
    const wrongPassword = await refusal(decryptNote("not-the-password", vector.encryptedData, { email: vector.inputs.email }));
    expect(wrongPassword.code).toBe("DECRYPT_FAILED");
    expect(wrongPassword.message).toMatch(/password is wrong or the blob was altered/);
    const wrongEmail = await refusal(decryptNote(vector.inputs.password, vector.encryptedData, { email: "other@example.com" }));
    expect(wrongEmail.code).toBe("DECRYPT_FAILED");
  });

  it("refuses a v1 blob with a flipped tag bit", async () => {
    const tag = Buffer.from(String(vector.encryptedData.authTag), "base64");
    tag[0] = (tag[0] ?? 0) ^ 1;
    const tampered = { ...vector.encryptedData, authTag: tag.toString("base64") };
    expect((await refusal(decryptNote(vector.inputs.password, tampered, { email: vector.inputs.email }))).code).toBe(
      "DECRYPT_FAILED",
    );
  });
});

describe("vault SDK: v2", () => {
  const note = { mood: "calm", notes: "Slept well — 8h 🌙", tags: ["sleep"], score: 7 };

  it("records its parameters and round-trips a note", async () => {
    const blob = await encryptNote("correct horse battery staple", note);
    expect(blob).toMatchObject({ version: 2, kdf: "PBKDF2", hash: "SHA-256", iterations: 600_000, cipher: "AES-256-GCM" });
    expect(Buffer.from(blob.salt, "base64")).toHaveLength(16);
    expect(Buffer.from(blob.iv, "base64")).toHaveLength(12);
    const stored = JSON.parse(JSON.stringify(blob)) as unknown;
    expect(await decryptNote("correct horse battery staple", stored)).toStrictEqual(note);
    expect(JSON.stringify(blob)).not.toContain("Slept");
  });

  it("uses a fresh salt and IV for every encryption", async () => {
    const [a, b] = await Promise.all([encryptNote("pw", note), encryptNote("pw", note)]);
    expect(a.salt).not.toBe(b.salt);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("refuses a wrong password, a flipped ciphertext bit and an edited parameter", async () => {
    const blob = await encryptNote("right", note);
    expect((await refusal(decryptNote("wrong", blob))).code).toBe("DECRYPT_FAILED");
    const bytes = Buffer.from(blob.ciphertext, "base64");
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    expect((await refusal(decryptNote("right", { ...blob, ciphertext: bytes.toString("base64") }))).code).toBe("DECRYPT_FAILED");
    const otherSalt = Buffer.alloc(16, 7).toString("base64");
    expect((await refusal(decryptNote("right", { ...blob, salt: otherSalt }))).code).toBe("DECRYPT_FAILED");
  });

  it("refuses malformed blobs and unknown versions or parameters without deriving a key", async () => {
    const blob = await encryptNote("right", note);
    expect((await refusal(decryptNote("right", "not a blob"))).code).toBe("MALFORMED_BLOB");
    expect((await refusal(decryptNote("right", { ...blob, iv: "AAAA" }))).code).toBe("MALFORMED_BLOB");
    expect((await refusal(decryptNote("right", { ...blob, salt: "%%%" }))).code).toBe("MALFORMED_BLOB");
    expect((await refusal(decryptNote("right", { ...blob, version: 3 }))).code).toBe("UNSUPPORTED");
    expect((await refusal(decryptNote("right", { ...blob, cipher: "AES-128-CBC" }))).code).toBe("UNSUPPORTED");
    expect((await refusal(decryptNote("right", { ...blob, iterations: 1_000 }))).code).toBe("UNSUPPORTED");
  });
});
