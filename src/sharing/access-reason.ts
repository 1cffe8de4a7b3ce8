import { DomainError } from "../errors/domain-error";

/**
 * Why a grantee reads a patient's data, sent as `X-Access-Reason: <purpose>[; <free text>]` and
 * recorded whole as the audit event's reason, so the patient's access log says why as well as who.
 * The purposes are a closed list (a log a patient reads must not be free-form guesswork); the text
 * lets a clinician say more ("follow-up after ER visit").
 */
export const ACCESS_PURPOSES = ["treatment", "care-coordination", "research", "emergency"] as const;
export type AccessPurpose = (typeof ACCESS_PURPOSES)[number];

export const ACCESS_REASON_HEADER = "X-Access-Reason";
const MAX_TEXT = 200;
const SEPARATOR = "; ";
/** Control, format, surrogate, private-use and unassigned code points: nothing a log should print. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u;

/** The header's value, checked; throws VALIDATION_FAILED naming the header otherwise. */
export function parseAccessReason(value: string | undefined): string {
  if (value === undefined || value === "") throw invalid(`required: one of ${ACCESS_PURPOSES.join(", ")}`);
  const cut = value.indexOf(SEPARATOR);
  const purpose = cut === -1 ? value : value.slice(0, cut);
  if (!(ACCESS_PURPOSES as readonly string[]).includes(purpose)) {
    throw invalid(`must start with one of ${ACCESS_PURPOSES.join(", ")}, optionally followed by "; " and a note`);
  }
  if (cut === -1) return value;
  const text = value.slice(cut + SEPARATOR.length);
  // Counted in code points, as a person counts characters.
  const length = [...text].length;
  if (text.trim() === "" || length > MAX_TEXT) throw invalid(`the note after "; " must be 1 to ${MAX_TEXT} characters`);
  if (UNPRINTABLE.test(text)) throw invalid("the note must be printable text, without control characters");
  return value;
}

function invalid(message: string): DomainError {
  return new DomainError("VALIDATION_FAILED", `The ${ACCESS_REASON_HEADER} header is not valid.`, {
    errors: [{ path: ACCESS_REASON_HEADER, message }],
  });
}
