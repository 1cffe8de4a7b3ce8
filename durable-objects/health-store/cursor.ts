import { DomainError } from "../../src/errors/domain-error";

/**
 * Opaque page cursors: base64url of a JSON array of integers (the sort key of the last item).
 * Opaque so clients don't build them; validated on the way back in, since they come from clients.
 */
export function encodeCursor(key: readonly number[]): string {
  return btoa(JSON.stringify(key)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string, length: number): number[] {
  try {
    const parsed: unknown = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    if (Array.isArray(parsed) && parsed.length === length && parsed.every((part) => Number.isSafeInteger(part))) {
      return parsed;
    }
  } catch {
    // Falls through to the same answer as a well-formed but wrong cursor.
  }
  throw new DomainError("BAD_REQUEST", "The cursor is not valid for this list.", {
    errors: [{ path: "cursor", message: "invalid cursor" }],
  });
}
