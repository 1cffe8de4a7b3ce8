/**
 * Identifiers people choose: usernames (RFC 8265 §3.3 `UsernameCaseMapped`) and nicknames —
 * display names, passkey and device names (RFC 8265 §4 `Nickname`). Pure functions, no transport:
 * each returns the enforced string or the reason it cannot be one.
 *
 * Usernames, in RFC 8265 order: width mapping (fullwidth/halfwidth forms to their decompositions),
 * case mapping with Unicode `toLowerCase()` (what RFC 8264 §5.2.4 specifies since it replaced case
 * folding; JavaScript's `toLowerCase` is that full, locale-independent mapping), NFC, then the
 * IdentifierClass test narrowed to what Pulse accepts: letters, combining marks and decimal digits
 * (no character with a compatibility decomposition, so no ligatures or superscripts), plus `.`, `_`
 * and `-` between them. On top of PRECIS, UTS #39 identifier restrictions: letters from one of the
 * UAX #31 "Recommended" scripts only, one script per name (Han may mix with Hiragana/Katakana,
 * Hangul or Bopomofo, as in UTS #39 §5.1), and for right-to-left names the parts of the RFC 5893
 * Bidi Rule that can still fail here (a letter first, not both kinds of Arabic digits).
 *
 * Nicknames: non-ASCII spaces mapped to U+0020, NFKC (RFC 8265 §4.2 asks for NFKC, stricter than
 * NFC: fullwidth and ligature look-alikes become their plain forms), leading and trailing spaces
 * removed and runs of spaces collapsed. Refused (FreeformClass): controls (NUL, BEL, ESC — so no ANSI
 * escapes), format characters such as bidi overrides and isolates, zero-width spaces, line and
 * paragraph separators, private-use and unassigned code points. ZWJ/ZWNJ are the exception PRECIS
 * makes (CONTEXTJ): accepted after a combining mark (a virama, as Indic scripts need) or inside an
 * emoji sequence; JavaScript has no Canonical_Combining_Class property, so "after a mark" stands in
 * for "after a virama".
 */
export type Enforced = { ok: true; value: string } | { ok: false; message: string };

export const USERNAME_MAX = 64;
const SEPARATORS = "._-";

const WIDE_OR_NARROW = /[\uFF01-\uFFEE]/gu;
const ALLOWED_USERNAME_CHAR = /^[\p{L}\p{M}\p{Nd}._-]$/u;
// RFC 8264 §9.13: default-ignorable code points are disallowed. They render as nothing (the
// combining grapheme joiner, variation selectors, Hangul fillers), so `ace` plus one of them would
// look exactly like `ace` while its skeleton differs.
const INVISIBLE = /^\p{Default_Ignorable_Code_Point}$/u;
const COMMON_OR_INHERITED = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;
const RTL_LETTER = /[\p{scx=Hebrew}\p{scx=Arabic}\p{scx=Thaana}]/u;
const ARABIC_INDIC_DIGIT = /[\u0660-\u0669]/u;
const EUROPEAN_DIGIT = /[0-9\u06F0-\u06F9]/u;

/** UAX #31 Table 5 (Recommended Scripts), each with the writing systems it may share (UTS #39 §5.1). */
const RECOMMENDED_SCRIPTS: Record<string, readonly string[]> = {
  Arabic: [],
  Armenian: [],
  Bengali: [],
  Bopomofo: ["Hanb"],
  Cyrillic: [],
  Devanagari: [],
  Ethiopic: [],
  Georgian: [],
  Greek: [],
  Gujarati: [],
  Gurmukhi: [],
  Han: ["Hanb", "Jpan", "Kore"],
  Hangul: ["Kore"],
  Hebrew: [],
  Hiragana: ["Jpan"],
  Kannada: [],
  Katakana: ["Jpan"],
  Khmer: [],
  Lao: [],
  Latin: [],
  Malayalam: [],
  Myanmar: [],
  Oriya: [],
  Sinhala: [],
  Tamil: [],
  Telugu: [],
  Thaana: [],
  Thai: [],
  Tibetan: [],
};
const SCRIPT_TESTS = Object.entries(RECOMMENDED_SCRIPTS).map(
  ([script, shares]) => [new RegExp(`^\\p{scx=${script}}$`, "u"), [script, ...shares]] as const,
);

/** The writing systems a character can belong to; undefined for Common/Inherited (any). */
function writingSystems(char: string): Set<string> | undefined {
  if (COMMON_OR_INHERITED.test(char)) return undefined;
  const systems = new Set<string>();
  for (const [test, names] of SCRIPT_TESTS) if (test.test(char)) for (const name of names) systems.add(name);
  return systems;
}

function singleScript(chars: readonly string[]): Enforced | undefined {
  let shared: Set<string> | undefined;
  for (const char of chars) {
    const systems = writingSystems(char);
    if (systems === undefined) continue;
    if (systems.size === 0) return { ok: false, message: `must not use the script of "${char}"` };
    shared = shared === undefined ? systems : new Set([...shared].filter((system) => systems.has(system)));
    if (shared.size === 0) return { ok: false, message: "must use letters of one script only" };
  }
  return undefined;
}

export function enforceUsername(input: string): Enforced {
  const mapped = input.replace(WIDE_OR_NARROW, (char) => char.normalize("NFKC"));
  const value = mapped.toLowerCase().normalize("NFC");
  const chars = [...value];
  if (chars.length === 0) return { ok: false, message: "must not be empty" };
  if (chars.length > USERNAME_MAX) return { ok: false, message: `must be at most ${USERNAME_MAX} characters` };
  for (const char of chars) {
    if (!ALLOWED_USERNAME_CHAR.test(char) || INVISIBLE.test(char) || char.normalize("NFKC") !== char)
      return {
        ok: false,
        message: `may contain only letters, digits, ".", "_" and "-" (not U+${codePoint(char)})`,
      };
  }
  const first = chars[0] ?? "";
  const last = chars[chars.length - 1] ?? "";
  if (SEPARATORS.includes(first) || SEPARATORS.includes(last) || /^\p{M}$/u.test(first))
    return { ok: false, message: "must start and end with a letter or digit" };
  const mixed = singleScript(chars);
  if (mixed) return mixed;
  if (RTL_LETTER.test(value)) {
    // RFC 5893 §2 rules 1 and 4 for a right-to-left name.
    if (!/^\p{L}$/u.test(first)) return { ok: false, message: "a right-to-left name must start with a letter" };
    if (ARABIC_INDIC_DIGIT.test(value) && EUROPEAN_DIGIT.test(value))
      return { ok: false, message: "must not mix Arabic-Indic and European digits" };
  }
  return { ok: true, value };
}

const NON_ASCII_SPACE = /[\p{Zs}]/gu;
const ZW_JOINER = /^[\u200C\u200D]$/u;
const VARIATION_SELECTOR = /^[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]$/u;
const REFUSED_NICKNAME_CHAR = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]$/u;
const JOINS_AFTER = /^[\p{M}\p{Extended_Pictographic}]$/u;
/** A variation selector chooses the presentation of the symbol before it (❤️); elsewhere it is invisible. */
const SELECTS_AFTER = /^[\p{S}\p{Extended_Pictographic}\p{Nd}]$/u;
/** Renders as a blank without being a space: a name made of it looks empty. */
const BLANK_LOOKING = /^[\u2800\u3164\uFFA0\u115F\u1160]$/u;

export function enforceNickname(input: string, max: number): Enforced {
  // Only U+0020 is trimmed: String#trim would also drop a BOM or a tab silently instead of refusing it.
  const value = input
    .replace(NON_ASCII_SPACE, " ")
    .normalize("NFKC")
    .replace(/^ +| +$/g, "")
    .replace(/ {2,}/g, " ");
  const chars = [...value];
  if (chars.length === 0) return { ok: false, message: "must not be empty" };
  if (chars.length > max) return { ok: false, message: `must be at most ${max} characters` };
  for (const [index, char] of chars.entries()) {
    if (VARIATION_SELECTOR.test(char) && SELECTS_AFTER.test(chars[index - 1] ?? "")) continue;
    if (BLANK_LOOKING.test(char))
      return { ok: false, message: `must not contain characters that look blank (U+${codePoint(char)})` };
    if (ZW_JOINER.test(char) && JOINS_AFTER.test(chars[index - 1] ?? "") && index < chars.length - 1) continue;
    if (REFUSED_NICKNAME_CHAR.test(char))
      return { ok: false, message: `must not contain control, format or invisible characters (U+${codePoint(char)})` };
  }
  return { ok: true, value };
}

function codePoint(char: string): string {
  return (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}
