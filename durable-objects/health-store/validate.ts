import type { z } from "zod";
import { DomainError, fieldErrors } from "../../src/errors/domain-error";

/**
 * Parses one RPC argument; every issue is reported with its path under the argument's name, and the
 * error names the argument (`extensions.argument`) so the client can tell a refused argument, which
 * means a route let a value through, from a refusal the caller should see as is (a bad cursor).
 */
export function parseArgument<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = fieldErrors(parsed.error.issues).map((issue) => ({
    ...issue,
    path: issue.path === "(root)" ? name : `${name}.${issue.path}`,
  }));
  throw new DomainError("VALIDATION_FAILED", `Invalid ${name}.`, { errors, extensions: { argument: name } });
}
