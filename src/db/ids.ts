/**
 * Public identifiers: a short type prefix and 26 random characters of the RFC 4648 base32
 * alphabet (lowercase), i.e. 130 bits from the CSPRNG. Random rather than sequential so ids reveal
 * neither counts nor creation order, and guessing one is hopeless.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const RANDOM_CHARS = 26;

export type IdPrefix =
  | "usr"
  | "ses"
  | "rtk"
  | "flw"
  | "dev"
  | "rec"
  | "upl"
  | "con"
  | "whe"
  | "inv"
  | "grt"
  | "cns"
  | "exp"
  | "nar";

export function newId(prefix: IdPrefix): string {
  const bytes = crypto.getRandomValues(new Uint8Array(RANDOM_CHARS));
  // 256 is a multiple of 32, so the low five bits of a uniform byte are uniform.
  return `${prefix}_${Array.from(bytes, (byte) => ALPHABET[byte & 31]).join("")}`;
}

export function idPattern(prefix: IdPrefix): RegExp {
  return new RegExp(`^${prefix}_[a-z2-7]{${RANDOM_CHARS}}$`);
}
