import { DomainError } from "../errors/domain-error";

/**
 * The one page cursor of every list (`?limit=&cursor=` → `{items, nextCursor}`, DESIGN §3).
 *
 * A cursor is the sort key of the last item of a page, wrapped with the name of the list and a
 * digest of the filters that produced it, then base64url-encoded so clients treat it as opaque.
 * Binding matters: a cursor from `/v1/uploads` replayed on the device list, or from a heart-rate
 * read replayed with other metrics or another window, would otherwise silently skip or repeat rows.
 * The digest is for detecting misuse, not a secret: a client that forges a cursor can only page
 * through its own data, which every list already scopes to the caller.
 *
 * Every malformed, foreign or mismatched cursor is the same answer: 400 `VALIDATION_FAILED` on
 * `cursor`.
 */
export type CursorPart = "int" | "string";
type PartValue<P extends CursorPart> = P extends "int" ? number : string;
export type CursorKey<Shape extends readonly CursorPart[]> = { [I in keyof Shape]: PartValue<Shape[I]> };

const MAX_STRING_PART = 200;

export function encodeCursor(list: string, key: ReadonlyArray<number | string>, filters: unknown = null): string {
  const json = JSON.stringify({ l: list, f: filterDigest(filters), k: key });
  return base64url(new TextEncoder().encode(json));
}

/** The key a cursor names, or undefined without a cursor; anything this list did not issue throws. */
export function decodeCursor<const Shape extends readonly CursorPart[]>(
  cursor: string | undefined,
  list: string,
  shape: Shape,
  filters: unknown = null,
): CursorKey<Shape> | undefined {
  if (cursor === undefined) return undefined;
  const parsed = parse(cursor);
  if (
    parsed === null ||
    parsed.l !== list ||
    parsed.f !== filterDigest(filters) ||
    !Array.isArray(parsed.k) ||
    parsed.k.length !== shape.length ||
    !shape.every((part, index) => fits(part, (parsed.k as unknown[])[index]))
  ) {
    throw invalidCursor();
  }
  return parsed.k as CursorKey<Shape>;
}

export function invalidCursor(): DomainError {
  return new DomainError("VALIDATION_FAILED", "The cursor is not valid for this list.", {
    errors: [{ path: "cursor", message: "not a cursor from this list with these filters; start again without it" }],
  });
}

function fits(part: CursorPart, value: unknown): boolean {
  if (part === "int") return Number.isSafeInteger(value);
  return typeof value === "string" && value.length <= MAX_STRING_PART;
}

function parse(cursor: string): { l?: unknown; f?: unknown; k?: unknown } | null {
  if (cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** FNV-1a (32-bit) of the filters' JSON: short, stable, and enough to tell two filter sets apart. */
function filterDigest(filters: unknown): string {
  const text = JSON.stringify(filters ?? null);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
