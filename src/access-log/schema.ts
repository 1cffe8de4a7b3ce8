import { z } from "@hono/zod-openapi";
import { ACTOR_ROLES, AUDIT_RESULTS, auditActionSchema } from "../audit/event";
import { instantSchema } from "../observations/dates";
import { WHO_KINDS } from "./describe";

/**
 * Shapes of the access log (`/v1/me/access-log`) and the auditor's routes (`/v1/audit/*`). Query
 * strings are strict: an unknown parameter is a 400, never silently ignored.
 */
export const USER_ID = /^usr_[a-z2-7]{26}$/;

const limitParam = z.coerce.number().int().min(1).max(100).default(50).openapi({ description: "Items per page (1–100)" });
const cursorParam = z.string().min(1).max(200).optional().openapi({ description: "`nextCursor` of the previous page" });
const sinceParam = instantSchema.optional().openapi({ description: "Events at or after this instant (ISO 8601 with offset)" });
const untilParam = instantSchema.optional().openapi({ description: "Events before this instant (ISO 8601 with offset)" });

const sinceBeforeUntil = (query: { since?: string | undefined; until?: string | undefined }) =>
  query.since === undefined || query.until === undefined || Date.parse(query.since) <= Date.parse(query.until);
const RANGE_ISSUE = { path: ["until"], message: "until must not be before since" };

export const AccessLogQuerySchema = z
  .strictObject({
    actor: z
      .string()
      .regex(/^(me|others|usr_[a-z2-7]{26})$/, "must be me, others or a usr_ id")
      .optional()
      .openapi({ description: "`me` (your own access), `others` (everyone else's) or one user's id" }),
    role: z.enum(ACTOR_ROLES).optional().openapi({ description: "Only events of actors acting in this role" }),
    since: sinceParam,
    until: untilParam,
    limit: limitParam,
    cursor: cursorParam,
  })
  .refine(sinceBeforeUntil, RANGE_ISSUE);

const instant = z.string().openapi({ format: "date-time" });

export const AccessLogItemSchema = z
  .object({
    seq: z.number().int(),
    at: instant,
    who: z.object({
      kind: z.enum(WHO_KINDS),
      id: z.string().optional(),
      displayName: z.string().optional(),
      role: z.enum(ACTOR_ROLES),
      label: z.string().openapi({ example: "Dr Ada Rivera (clinician)" }),
    }),
    action: z.string().openapi({ example: "observations.read" }),
    description: z.string().openapi({ example: "Read heart rate and HRV (RMSSD) for 1 Nov 2026 – 8 Nov 2026" }),
    categories: z.array(z.string()),
    metrics: z.array(z.string()),
    period: z.object({ since: instant.nullable(), until: instant.nullable() }).nullable(),
    reason: z.string().nullable(),
    result: z.enum(AUDIT_RESULTS),
    requestId: z.string().nullable(),
    receipt: z
      .string()
      .optional()
      .openapi({
        description:
          "On `ai.answer`: the SHA-256 of the answer's signed receipt (`receipt.sha256` of the answer), which the Worker verified. " +
          "It follows the `ai.query` event of the same request id, which records what was read.",
      }),
  })
  .openapi("AccessLogItem");

export const AccessLogPageSchema = z
  .object({ items: z.array(AccessLogItemSchema), nextCursor: z.string().nullable() })
  .openapi("AccessLogPage");

export const SecurityAuditQuerySchema = z
  .strictObject({
    subject: z.string().regex(USER_ID, "must be a usr_ id").optional().openapi({ description: "Events about this user" }),
    actor: z.string().min(1).max(128).optional().openapi({ description: "Events by this actor (a user id or `system:…`)" }),
    action: auditActionSchema.optional().openapi({ description: "One action, e.g. `user.role_change`" }),
    since: sinceParam,
    until: untilParam,
    limit: limitParam,
    cursor: cursorParam,
  })
  .refine(sinceBeforeUntil, RANGE_ISSUE);

export const UserAuditQuerySchema = z
  .strictObject({
    action: auditActionSchema.optional().openapi({ description: "One action, e.g. `observations.read`" }),
    since: sinceParam,
    until: untilParam,
    limit: limitParam,
    cursor: cursorParam,
  })
  .refine(sinceBeforeUntil, RANGE_ISSUE);

/** Any text: a malformed id is answered like an unknown one (404), so the path gives nothing away. */
export const UserAuditParamSchema = z.object({
  userId: z
    .string()
    .max(200)
    .openapi({ param: { name: "userId", in: "path" }, example: "usr_abcdefghijklmnopqrstuvwxyz" }),
});

export const AccessReasonHeaderSchema = z.object({
  "x-access-reason": z
    .string({ error: "required: why you read this user's audit trail (1 to 200 printable characters)" })
    .regex(/^[\x20-\x7E]{1,200}$/, "must be 1 to 200 printable characters")
    .refine((value) => value.trim().length > 0, "must not be blank")
    .openapi({ description: "Why the auditor reads this user's log (recorded in it)", example: "Incident INC-42 review" }),
});

export const ChainedEventSchema = z
  .object({
    seq: z.number().int(),
    at: instant,
    actor: z.string(),
    role: z.enum(ACTOR_ROLES),
    action: z.string(),
    resource: z.string(),
    subject: z.string().nullable(),
    reason: z.string().nullable(),
    result: z.enum(AUDIT_RESULTS),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi("ChainedAuditEvent");

export const ChainedEventPageSchema = z
  .object({ items: z.array(ChainedEventSchema), nextCursor: z.string().nullable() })
  .openapi("ChainedAuditEventPage");

export const SecurityEventSchema = ChainedEventSchema.extend({
  salt: z.string().nullable().openapi({
    description:
      "Salt of the personal fields' commitments that the hash covers (docs/deletion.md); null once erased, and on events older than commitments",
  }),
  erasedAt: instant.nullable().openapi({ description: "When the personal fields were erased (account deletion)" }),
}).openapi("SecurityEvent");

export const SecurityEventPageSchema = z
  .object({ items: z.array(SecurityEventSchema), nextCursor: z.string().nullable() })
  .openapi("SecurityEventPage");

export type AccessLogQuery = z.infer<typeof AccessLogQuerySchema>;
export type SecurityAuditQuery = z.infer<typeof SecurityAuditQuerySchema>;
export type UserAuditQuery = z.infer<typeof UserAuditQuerySchema>;
export type AccessLogItem = z.infer<typeof AccessLogItemSchema>;
