/**
 * Zod schemas enforcing src/identifiers/precis.ts: they output the enforced form, and a refused
 * value is one validation issue at the field's path (VALIDATION_FAILED naming the field).
 */
import { z } from "zod";
import { type Enforced, enforceNickname, enforceUsername, USERNAME_MAX } from "./precis";

export const DISPLAY_NAME_MAX = 128;
export const DEVICE_NAME_MAX = 64;

/** Raw input is bounded before any Unicode work, so a huge string costs nothing. */
const RAW_FACTOR = 4;

function enforced(max: number, enforce: (input: string) => Enforced) {
  return z
    .string()
    .max(max * RAW_FACTOR)
    .transform((input, ctx) => {
      const result = enforce(input);
      if (result.ok) return result.value;
      ctx.addIssue({ code: "custom", message: result.message });
      return z.NEVER;
    });
}

/** RFC 8265 UsernameCaseMapped plus UTS #39 restrictions. */
export const usernameSchema = enforced(USERNAME_MAX, enforceUsername);

/** RFC 8265 Nickname, for a name shown to people (display names, passkey and device names). */
export const nicknameSchema = (max: number) => enforced(max, (input) => enforceNickname(input, max));

export const displayNameSchema = nicknameSchema(DISPLAY_NAME_MAX);
