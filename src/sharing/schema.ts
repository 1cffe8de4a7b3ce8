import { z } from "@hono/zod-openapi";
import { GRANTEE_ROLES } from "../db/schema";
import { METRIC_CATEGORIES } from "../observations/metrics";

/**
 * Shapes of invitations and grants (DESIGN §8). Request bodies are strict: a field the API does
 * not know (a `granteeId`, a `username`) is refused rather than ignored, so nobody can believe they
 * chose who may redeem a code. Time-dependent rules (an expiry in the future and within a year)
 * are checked by the domain (./invitations.ts), which knows "now".
 */
export const NOTE_MAX = 500;

const instantInput = z.iso.datetime({ offset: true }).openapi({ format: "date-time", example: "2027-06-01T00:00:00Z" });
const instant = z.string().openapi({ format: "date-time" });

const isForbiddenControl = (char: string): boolean => {
  const code = char.charCodeAt(0);
  return (code < 0x20 && char !== "\t" && char !== "\n" && char !== "\r") || (code >= 0x7f && code <= 0x9f);
};

// A note is shown to the grantee as plain text: line breaks and tabs yes, other control characters no.
const noteSchema = z
  .string()
  .max(NOTE_MAX)
  .refine((note) => !Array.from(note).some(isForbiddenControl), {
    message: "must not contain control characters other than tabs and line breaks",
  });

const categoriesSchema = z
  .array(z.enum(METRIC_CATEGORIES))
  .min(1)
  .max(METRIC_CATEGORIES.length)
  .refine((categories) => new Set(categories).size === categories.length, { message: "categories must be unique" })
  .openapi({ description: "Metric categories of the registry the grantee may read", example: ["vitals", "sleep"] });

export const CreateInvitationSchema = z
  .strictObject({
    role: z.enum(GRANTEE_ROLES).openapi({ description: "The role the person redeeming the code must have" }),
    categories: categoriesSchema,
    expiresAt: instantInput.openapi({ description: "When the grant ends: in the future and at most one year from now" }),
    note: noteSchema.optional().openapi({ description: `Shown to the grantee (at most ${NOTE_MAX} characters)` }),
    dataSince: instantInput.optional().openapi({ description: "Optional start (inclusive) of the period of data shared" }),
    dataUntil: instantInput.optional().openapi({ description: "Optional end (exclusive) of the period of data shared" }),
  })
  .refine(
    (body) =>
      body.dataSince === undefined || body.dataUntil === undefined || Date.parse(body.dataSince) < Date.parse(body.dataUntil),
    { path: ["dataUntil"], message: "dataUntil must be after dataSince" },
  )
  .openapi("CreateInvitation");

const invitationFields = {
  id: z.string().openapi({ example: "inv_abcdefghijklmnopqrstuvwxyz" }),
  role: z.enum(GRANTEE_ROLES),
  categories: z.array(z.string()),
  dataSince: instant.nullable(),
  dataUntil: instant.nullable(),
  expiresAt: instant.openapi({ description: "When the code stops being redeemable (7 days, never after the grant's end)" }),
  grantExpiresAt: instant.openapi({ description: "When the grant created from this invitation ends" }),
  note: z.string().nullable(),
  createdAt: instant,
};

export const InvitationSchema = z
  .object({
    ...invitationFields,
    status: z.enum(["pending", "redeemed", "expired", "cancelled"]),
    redeemedAt: instant.nullable(),
    cancelledAt: instant.nullable(),
  })
  .openapi("GrantInvitation");

export const CreatedInvitationSchema = z
  .object({
    ...invitationFields,
    code: z.string().openapi({
      description: "The one-time code, shown only in this answer: give it to the grantee.",
      example: "PLS-7K2M-9QXR-4TVW-ZB3N-H8CD-1FGA-6EJP",
    }),
  })
  .openapi("CreatedGrantInvitation");

export const InvitationPageSchema = z
  .object({ items: z.array(InvitationSchema), nextCursor: z.string().nullable() })
  .openapi("GrantInvitationPage");

export const RedeemSchema = z
  .strictObject({
    code: z.string().min(1).max(100).openapi({
      description: "The invitation code; case, dashes, spaces and the `PLS` prefix are optional",
      example: "PLS-7K2M-9QXR-4TVW-ZB3N-H8CD-1FGA-6EJP",
    }),
  })
  .openapi("RedeemGrantInvitation");

const grantFields = {
  id: z.string().openapi({ example: "grt_abcdefghijklmnopqrstuvwxyz" }),
  categories: z.array(z.string()),
  dataSince: instant.nullable(),
  dataUntil: instant.nullable(),
  expiresAt: instant,
  createdAt: instant,
  status: z.enum(["active", "expired", "revoked"]),
  note: z.string().nullable(),
};

export const PatientGrantSchema = z
  .object({
    ...grantFields,
    grantee: z.object({ id: z.string(), displayName: z.string(), role: z.enum(GRANTEE_ROLES) }),
    revokedAt: instant.nullable(),
    lastAccessedAt: instant.nullable(),
  })
  .openapi("PatientGrant");

export const GranteeGrantSchema = z
  .object({
    ...grantFields,
    patient: z.object({ id: z.string(), displayName: z.string() }),
    role: z.enum(GRANTEE_ROLES),
  })
  .openapi("GranteeGrant");

export const RedeemedGrantSchema = z.object({ grant: GranteeGrantSchema }).openapi("RedeemedGrant");

export const PatientGrantPageSchema = z
  .object({ items: z.array(PatientGrantSchema), nextCursor: z.string().nullable() })
  .openapi("PatientGrantPage");

export const GranteeGrantPageSchema = z
  .object({ items: z.array(GranteeGrantSchema), nextCursor: z.string().nullable() })
  .openapi("GranteeGrantPage");

export type CreateInvitationInput = z.infer<typeof CreateInvitationSchema>;
export type InvitationView = z.infer<typeof InvitationSchema>;
export type CreatedInvitation = z.infer<typeof CreatedInvitationSchema>;
export type PatientGrantView = z.infer<typeof PatientGrantSchema>;
export type GranteeGrantView = z.infer<typeof GranteeGrantSchema>;
