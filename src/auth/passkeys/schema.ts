/**
 * Request and response shapes of the passkey routes. The WebAuthn response objects are what a
 * browser's `PublicKeyCredential#toJSON()` (WebAuthn L3 §5.1.8) produces; they are loose objects
 * because browsers add members over time, while the request bodies around them are strict.
 */
import { z } from "@hono/zod-openapi";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { idPattern } from "../../db/ids";
import { displayNameSchema, nicknameSchema, usernameSchema } from "../../identifiers/schema";

const base64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url");

/** Credential ids are at most 1023 bytes (WebAuthn L3 §4, "Credential ID"): 1364 base64url characters. */
export const credentialId = base64url(1400);

const flowId = z.string().regex(idPattern("flw"), "must be a flw_ id");
/** Shown in lists and security mails: the PRECIS Nickname profile (src/identifiers/precis.ts). */
const passkeyName = nicknameSchema(64);

export const RegistrationResponseSchema = z
  .looseObject({
    id: credentialId,
    rawId: credentialId,
    type: z.literal("public-key"),
    response: z.looseObject({
      clientDataJSON: base64url(8192),
      attestationObject: base64url(65536),
      transports: z.array(z.string().max(32)).max(16).optional(),
    }),
    authenticatorAttachment: z.string().max(32).nullish(),
  })
  .openapi("RegistrationResponse", { description: "PublicKeyCredential#toJSON() of navigator.credentials.create()" });

export const AuthenticationResponseSchema = z
  .looseObject({
    id: credentialId,
    rawId: credentialId,
    type: z.literal("public-key"),
    response: z.looseObject({
      clientDataJSON: base64url(8192),
      authenticatorData: base64url(8192),
      signature: base64url(2048),
      userHandle: base64url(128).nullish(),
    }),
    authenticatorAttachment: z.string().max(32).nullish(),
  })
  .openapi("AuthenticationResponse", { description: "PublicKeyCredential#toJSON() of navigator.credentials.get()" });

export type RegistrationResponseInput = z.infer<typeof RegistrationResponseSchema>;
export type AuthenticationResponseInput = z.infer<typeof AuthenticationResponseSchema>;

/** Only the members the verification reads; anything else the browser sent is dropped. */
export function toRegistrationJSON(input: RegistrationResponseInput): RegistrationResponseJSON {
  const { clientDataJSON, attestationObject, transports } = input.response;
  return {
    id: input.id,
    rawId: input.rawId,
    type: "public-key",
    response: { clientDataJSON, attestationObject, ...(transports ? { transports } : {}) },
    clientExtensionResults: {},
  };
}

export function toAuthenticationJSON(input: AuthenticationResponseInput): AuthenticationResponseJSON {
  const { clientDataJSON, authenticatorData, signature, userHandle } = input.response;
  return {
    id: input.id,
    rawId: input.rawId,
    type: "public-key",
    response: { clientDataJSON, authenticatorData, signature, ...(userHandle ? { userHandle } : {}) },
    clientExtensionResults: {},
  };
}

export const RegisterOptionsRequestSchema = z
  .strictObject({
    username: usernameSchema.openapi({
      example: "ada",
      description: 'RFC 8265 UsernameCaseMapped: letters and digits of one script, ".", "_", "-"; stored lower-case',
    }),
    displayName: displayNameSchema.optional().openapi({ example: "Ada Lovelace" }),
  })
  .openapi("RegisterOptionsRequest");

export const LoginOptionsRequestSchema = z
  .strictObject({ username: z.string().trim().min(1).max(64).optional() })
  .openapi("LoginOptionsRequest");

export const RegisterVerifyRequestSchema = z
  .strictObject({ flowId, response: RegistrationResponseSchema, name: passkeyName.optional() })
  .openapi("RegisterVerifyRequest");

export const LoginVerifyRequestSchema = z
  .strictObject({ flowId, response: AuthenticationResponseSchema })
  .openapi("LoginVerifyRequest");

export const RenamePasskeyRequestSchema = z.strictObject({ name: passkeyName }).openapi("RenamePasskeyRequest");

const descriptor = z.object({ id: z.string(), type: z.string(), transports: z.array(z.string()).optional() });

export const CreationOptionsSchema = z
  .object({
    challenge: z.string(),
    rp: z.object({ id: z.string().optional(), name: z.string() }),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
    pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.string() })),
    timeout: z.number().optional(),
    excludeCredentials: z.array(descriptor).optional(),
    authenticatorSelection: z
      .object({
        residentKey: z.string().optional(),
        requireResidentKey: z.boolean().optional(),
        userVerification: z.string().optional(),
      })
      .optional(),
    attestation: z.string().optional(),
  })
  .openapi("CreationOptions", { description: "PublicKeyCredentialCreationOptionsJSON (WebAuthn L3 §5.4)" });

export const RequestOptionsSchema = z
  .object({
    challenge: z.string(),
    timeout: z.number().optional(),
    rpId: z.string().optional(),
    allowCredentials: z.array(descriptor).optional(),
    userVerification: z.string().optional(),
  })
  .openapi("RequestOptions", { description: "PublicKeyCredentialRequestOptionsJSON (WebAuthn L3 §5.5)" });

export const RegistrationCeremonySchema = z
  .object({ flowId: z.string(), options: CreationOptionsSchema })
  .openapi("RegistrationCeremony");

export const AuthenticationCeremonySchema = z
  .object({ flowId: z.string(), options: RequestOptionsSchema })
  .openapi("AuthenticationCeremony");

export const PasskeySchema = z
  .object({
    id: z.string().openapi({ description: "The credential id (base64url)" }),
    name: z.string(),
    createdAt: z.string().openapi({ format: "date-time" }),
    lastUsedAt: z.string().nullable().openapi({ format: "date-time" }),
    deviceType: z.enum(["singleDevice", "multiDevice"]),
    backupEligible: z.boolean(),
    backedUp: z.boolean(),
    transports: z.array(z.string()),
    aaguid: z.string(),
  })
  .openapi("Passkey");

export const PasskeyListSchema = z
  .object({ items: z.array(PasskeySchema), nextCursor: z.string().nullable() })
  .openapi("PasskeyList");

export const PasskeyIdParamSchema = z.object({
  id: credentialId.openapi({ param: { name: "id", in: "path" } }),
});
