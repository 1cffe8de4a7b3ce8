/**
 * Invitation codes: the one secret a patient hands a clinician (on paper, by phone, in a message).
 *
 * 28 characters of Crockford's base32 (no I, L, O or U, so nothing reads as another character or
 * spells a word by accident), 140 bits from the CSPRNG, printed in groups of four after a `PLS`
 * prefix: `PLS-7K2M-9QXR-…`. Guessing one is hopeless at any request rate, so a plain SHA-256 of
 * the canonical form is a sufficient verifier (no password hashing; DESIGN §2) and the lookup by
 * hash leaks nothing useful through timing. The code itself is never stored, logged or audited.
 *
 * What a person types back is forgiven the way Crockford's alphabet intends: any case, with or
 * without the prefix, dashes or spaces, and `I`/`L` read as `1`, `O` as `0`.
 */
import { sha256Hex } from "../auth/secrets";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS = 28;
const GROUP = 4;
const PREFIX = "PLS";

export function newInvitationCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_CHARS));
  // 256 is a multiple of 32, so the low five bits of a uniform byte are uniform.
  const chars = Array.from(bytes, (byte) => ALPHABET[byte & 31]).join("");
  const groups = chars.match(new RegExp(`.{${GROUP}}`, "g")) ?? [];
  return [PREFIX, ...groups].join("-");
}

/** The code's 28 canonical characters, or undefined when the text cannot be a Pulse invitation code. */
export function canonicalInvitationCode(text: string): string | undefined {
  let compact = text.toUpperCase().replaceAll(/[\s-]/g, "");
  if (compact.startsWith(PREFIX) && compact.length === PREFIX.length + CODE_CHARS) compact = compact.slice(PREFIX.length);
  if (compact.length !== CODE_CHARS) return undefined;
  const canonical = compact.replaceAll(/[IL]/g, "1").replaceAll("O", "0");
  return /^[0-9A-HJKMNP-TV-Z]+$/.test(canonical) ? canonical : undefined;
}

/** What `grant_invitations.code_hash` holds: the hex SHA-256 of the canonical characters. */
export function invitationCodeHash(canonical: string): Promise<string> {
  return sha256Hex(canonical);
}
