import type { Hook } from "@hono/zod-openapi";
import { DomainError, fieldErrors } from "../errors/domain-error";
import type { AppEnv } from "./types";

/** zod-openapi's hook for failed validation: a 400 listing every issue with its path. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) {
    throw new DomainError("VALIDATION_FAILED", "The request did not match the expected shape.", {
      errors: fieldErrors(result.error.issues),
    });
  }
};
