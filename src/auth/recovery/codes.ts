/**
 * Recovery codes (DESIGN §4): 10 per account, shown once, single use. Each is 20 random base32
 * characters (100 bits) shown as `xxxxx-xxxxx-xxxxx-xxxxx`; being high-entropy, a plain SHA-256 of
 * the normalized code is a sufficient verifier (DESIGN §2: nothing password-like here needs a slow
 * hash). Input is normalized (case, spaces and dashes ignored) because people retype these.
 */
import { and, count, eq, isNull } from "drizzle-orm";
import type { SecurityWrite } from "../../audit/security-events";
import type { Db } from "../../db/client";
import { newId } from "../../db/ids";
import { recoveryCodes } from "../../db/schema";
import { sha256Hex } from "../secrets";

export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const CODE_CHARS = 20;
const GROUP = 5;
const NORMALIZED = /^[a-z2-7]{20}$/;

function newCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_CHARS));
  // 256 is a multiple of 32, so the low five bits of a uniform byte are uniform.
  const chars = Array.from(bytes, (byte) => ALPHABET[byte & 31]).join("");
  return chars.match(new RegExp(`.{${GROUP}}`, "g"))?.join("-") ?? chars;
}

/** The canonical form of a typed code, or undefined when it cannot be one. */
export function normalizeCode(input: string): string | undefined {
  const normalized = input.toLowerCase().replace(/[\s-]/g, "");
  return NORMALIZED.test(normalized) ? normalized : undefined;
}

export function hashCode(normalized: string): Promise<string> {
  return sha256Hex(normalized);
}

/** A fresh set of codes: the plaintext to show once, and the rows (hashes only) to write. */
export async function prepareRecoveryCodes(
  db: Db,
  userId: string,
  now: Date,
): Promise<{ codes: string[]; writes: SecurityWrite[] }> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  const rows = await Promise.all(
    codes.map(async (code) => ({
      id: newId("rec"),
      userId,
      codeHash: await hashCode(normalizeCode(code) ?? code),
      createdAt: now,
      usedAt: null,
    })),
  );
  return { codes, writes: [db.insert(recoveryCodes).values(rows)] };
}

/** Unused codes as a condition, shared by the count and the last-passkey guard. */
export function unusedCodesOf(userId: string) {
  return and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt));
}

export async function unusedRecoveryCodeCount(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(recoveryCodes).where(unusedCodesOf(userId));
  return row?.n ?? 0;
}
