/**
 * Identifiers cannot impersonate: usernames follow RFC 8265 UsernameCaseMapped with UTS #39
 * skeletons kept unique; display, passkey and device names follow the Nickname profile.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { devices, passkeys, users } from "../../src/db/schema";
import { enforceNickname, enforceUsername } from "../../src/identifiers/precis";
import { backfillUsernameSkeletons, LEGACY_SKELETON_PREFIX } from "../../src/users/usernames";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { generateDeviceKey } from "./helpers/dpop";
import { expectProblem } from "./helpers/security-cases";
import { api, type CreationOptions, expectStatus, signUp, type TokenResponse } from "./helpers/users";

const db = getDb(env.DB);

/** Letters with a Cyrillic twin in the confusables table (а с е о р х у). */
const TWINS: Record<string, string> = { a: "а", c: "с", e: "е", o: "о", p: "р", x: "х", y: "у" };

function randomLatin(length = 12): string {
  const letters = Object.keys(TWINS);
  return Array.from(crypto.getRandomValues(new Uint8Array(length)), (byte) => letters[byte % letters.length]).join("");
}

const cyrillicTwin = (latin: string) => [...latin].map((char) => TWINS[char] ?? char).join("");

/** A full registration; the options response when it is refused there. */
async function register(username: string, displayName?: string): Promise<Response> {
  const start = await api("POST", "/v1/auth/register/options", { body: displayName ? { username, displayName } : { username } });
  if (start.status !== 200) return start;
  const { flowId, options } = await start.json<{ flowId: string; options: CreationOptions }>();
  const response = await (await SoftwareAuthenticator.create()).register(options);
  return api("POST", "/v1/auth/register/verify", { body: { flowId, response } });
}

async function expectFieldError(res: Response, path: string): Promise<void> {
  const body = await res.clone().json<{ errors?: { path: string; message: string }[] }>();
  await expectProblem(res, 400, "VALIDATION_FAILED");
  expect(body.errors?.map((error) => error.path)).toContain(path);
}

describe("usernames (RFC 8265 UsernameCaseMapped + UTS #39)", () => {
  it("keeps zed, its capitals, fullwidth form, Cyrillic з, zero-width, bidi and NUL variants from coexisting", async () => {
    const base = `zed${randomLatin()}`;
    const created = await expectStatus<TokenResponse>(await register(base), 201);
    expect(created.user.username).toBe(base);

    await expectProblem(await register(base.toUpperCase()), 409, "CONFLICT");
    const fullwidth = [...base].map((char) => String.fromCodePoint((char.codePointAt(0) ?? 0) + 0xfee0)).join("");
    await expectProblem(await register(fullwidth), 409, "CONFLICT");
    for (const impostor of [`з${base.slice(1)}`, `${base}\u200B`, `\u202E${base}`, `${base}\u0000`, `${base} `, `${base}!`]) {
      await expectFieldError(await register(impostor), "username");
    }
  });

  it("treats NFC and NFD é, and the Kelvin sign and k, as the same name", async () => {
    const suffix = randomLatin();
    await expectStatus(await register(`caf\u00e9${suffix}`), 201);
    await expectProblem(await register(`cafe\u0301${suffix}`), 409, "CONFLICT");

    const kelvin = await expectStatus<TokenResponse>(await register(`\u212Aate${suffix}`), 201);
    expect(kelvin.user.username).toBe(`kate${suffix}`);
    await expectProblem(await register(`kate${suffix}`), 409, "CONFLICT");
  });

  it("refuses a whole-script Cyrillic look-alike of an existing Latin name (same skeleton)", async () => {
    const latin = randomLatin();
    await expectStatus(await register(latin), 201);
    const res = await register(cyrillicTwin(latin));
    await expectProblem(res, 409, "CONFLICT");
    const [stored] = await db.select().from(users).where(eq(users.username, latin));
    expect(stored?.usernameSkeleton).toBe(latin);
  });

  it("accepts names in other scripts and finds a recovery by the enforced form", async () => {
    const greek = await signUp({ username: `ΟΔΟΣ${Date.now()}` });
    expect(greek.user.username).toBe(`οδος${greek.user.username.slice(4)}`);
    const recovered = await api("POST", "/v1/auth/recover", {
      body: { username: greek.user.username.toUpperCase(), code: greek.recoveryCodes[0] },
    });
    expect((await expectStatus<TokenResponse>(recovered, 200)).user.id).toBe(greek.user.id);
  });
});

describe("nicknames (RFC 8265 Nickname)", () => {
  const hostile = [
    "\u0000\u0007bell",
    "\u001b[31mred",
    "\u202Eevil",
    "a\u2066b\u2069",
    "zero\u200Bwidth",
    "line\u2028sep",
    "   ",
  ];

  it("refuses control, escape, bidi and invisible characters in passkey names, naming the field", async () => {
    const ada = await signUp();
    const path = `/v1/me/passkeys/${ada.authenticator.credentialId}`;
    const stored = async () => (await db.select().from(passkeys).where(eq(passkeys.id, ada.authenticator.credentialId)))[0]?.name;
    const original = await stored();
    for (const name of hostile) {
      await expectFieldError(await api("PATCH", path, { token: ada.accessToken, body: { name } }), "name");
    }
    expect(await stored()).toBe(original);

    await expectStatus(
      await api("PATCH", path, { token: ada.accessToken, body: { name: "  My\u00a0\u00a0  ｐｈｏｎｅ " } }),
      200,
    );
    expect(await stored()).toBe("My phone");
  });

  it("refuses them in display names at registration", async () => {
    for (const displayName of hostile.slice(0, 4)) {
      await expectFieldError(await register(randomLatin(), displayName), "displayName");
    }
    const ok = await expectStatus<TokenResponse>(await register(randomLatin(), " Ada   Lovelace "), 201);
    expect(ok.user.displayName).toBe("Ada Lovelace");
  });

  it("refuses them in device names", async () => {
    const ada = await signUp();
    const { publicJwk } = await generateDeviceKey();
    for (const name of hostile.slice(0, 4)) {
      await expectFieldError(await api("POST", "/v1/me/devices", { token: ada.accessToken, body: { name, publicJwk } }), "name");
    }
    expect(await db.select().from(devices).where(eq(devices.userId, ada.user.id))).toEqual([]);
  });
});

describe("legacy usernames (before skeletons)", () => {
  it("backfills oldest first: the older of two look-alikes keeps the skeleton, the later and invalid ones are flagged", async () => {
    const latin = randomLatin();
    const alone = randomLatin();
    const at = (ms: number) => new Date(Date.UTC(2020, 0, 1) + ms);
    const legacy = [
      { id: newId("usr"), username: latin, displayName: "Older", createdAt: at(0), updatedAt: at(0) },
      { id: newId("usr"), username: cyrillicTwin(latin), displayName: "Later", createdAt: at(1), updatedAt: at(1) },
      { id: newId("usr"), username: `bad name ${latin}`, displayName: "Invalid", createdAt: at(2), updatedAt: at(2) },
      { id: newId("usr"), username: alone, displayName: "Alone", createdAt: at(3), updatedAt: at(3) },
    ];
    await db.insert(users).values(legacy);

    const result = await backfillUsernameSkeletons(db);
    expect(result.assigned).toBeGreaterThanOrEqual(2);
    expect(result.flagged).toBeGreaterThanOrEqual(2);
    const skeletons = await Promise.all(
      legacy.map(async ({ id }) => (await db.select().from(users).where(eq(users.id, id)))[0]?.usernameSkeleton),
    );
    expect(skeletons).toEqual([
      latin,
      `${LEGACY_SKELETON_PREFIX}${legacy[1]?.id}`,
      `${LEGACY_SKELETON_PREFIX}${legacy[2]?.id}`,
      alone,
    ]);
    // A backfilled name is now protected against new look-alikes (its twin was never stored).
    await expectProblem(await register(cyrillicTwin(alone)), 409, "CONFLICT");
    expect(await backfillUsernameSkeletons(db)).toEqual({ assigned: 0, flagged: 0 });
  });
});

describe("enforceUsername and enforceNickname", () => {
  it.each([
    ["日本語ひらがなカタカナ", true],
    ["한국어漢字", true],
    ["ελληνικά", true],
    ["latin漢字", false],
    ["ada\u0301", true],
    ["\u0301ada", false],
    ["שלום1", true],
    ["1שלום", false],
    ["مرحبا\u0661\u0031", false],
    ["ﬁsh", false],
    ["x²", false],
    ["a..b", true],
    ["ada_", false],
    ["a".repeat(65), false],
    ["𐌰𐌱", false],
    // Invisible (default-ignorable) characters: each would look exactly like the name without it.
    ["ace\u034F", false],
    ["ace\uFE0E", false],
    ["ace\u{E0101}", false],
    ["асе\uFE0F", false],
    ["김철수한\u1160", false],
    ["\uFFA0김철수한", false],
    ["\u115F", false],
    ["\u3164", false],
  ])("username %j → accepted %s", (input, accepted) => {
    expect(enforceUsername(input).ok).toBe(accepted);
  });

  it.each([
    ["👨\u200D👩\u200D👧", true],
    ["क्\u200Dष", true],
    ["❤\uFE0F heart", true],
    ["ada\u200D", false],
    ["a\u200Cb", false],
    ["\uFEFFada", false],
    ["\u00ADada", false],
    ["\uE000ada", false],
    ["tab\there", false],
    ["a\uFE0Fb", false],
    ["\u2800", false],
    ["ada\u2800", false],
  ])("nickname %j → accepted %s", (input, accepted) => {
    expect(enforceNickname(input, 64).ok).toBe(accepted);
  });
});
