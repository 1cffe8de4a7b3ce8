/**
 * Structured JSON logs, one object per line. Callers pass only fields that are safe to keep:
 * never health values, tokens, secrets or raw bodies (DESIGN §3).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

export function log(level: LogLevel, msg: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, msg, at: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** A safe description of an unexpected error: its name only, never its message (it may hold data). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
