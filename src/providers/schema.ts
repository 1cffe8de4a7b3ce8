import { z } from "@hono/zod-openapi";
import { CONNECTION_STATUSES } from "../db/schema";
import { PROVIDER_NAMES } from "./registry";

/** The connection routes' HTTP shapes (docs/providers.md "Connecting"). Never a token. */
export const ProviderParamSchema = z.object({
  provider: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "provider", in: "path" }, example: "sandbox", description: `One of ${PROVIDER_NAMES.join(", ")}` }),
});

export const StartConnectionSchema = z
  .strictObject({
    returnTo: z.string().max(2048).optional().openapi({
      description: "Where to send the person after connecting: an absolute URL on an allowed origin (APP_REDIRECT_URIS)",
      example: "http://localhost:8787/portal",
    }),
  })
  .openapi("StartConnection");

export const ConnectionStartSchema = z
  .object({
    authorizeUrl: z.url().openapi({ description: "Pulse's confirmation page for this flow; open it in the person's browser" }),
    expiresAt: z.iso.datetime(),
  })
  .openapi("ConnectionStart");

const ConnectionSchema = z
  .object({
    provider: z.enum(PROVIDER_NAMES),
    displayName: z.string(),
    status: z.enum(CONNECTION_STATUSES),
    scopes: z.array(z.string()),
    connectedAt: z.iso.datetime(),
    lastSyncAt: z.iso.datetime().nullable(),
    lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .openapi("Connection");

export const ConnectionsOverviewSchema = z
  .object({
    connections: z.array(ConnectionSchema),
    available: z.array(z.object({ provider: z.enum(PROVIDER_NAMES), displayName: z.string(), connected: z.boolean() })),
    unavailable: z.array(z.object({ provider: z.string(), reason: z.string() })),
  })
  .openapi("ConnectionsOverview");

export const DisconnectQuerySchema = z.object({
  data: z
    .enum(["keep", "delete"])
    .default("keep")
    .openapi({ description: "`delete` also deletes this provider's data from your health record" }),
});

export const DisconnectedSchema = z
  .object({
    provider: z.enum(PROVIDER_NAMES),
    status: z.literal("revoked"),
    revokedAtProvider: z.boolean(),
    dataDeleted: z
      .object({ observations: z.number().int(), sleepSessions: z.number().int(), workouts: z.number().int() })
      .nullable(),
  })
  .openapi("Disconnected");

const instant = z.iso.datetime({ offset: true });

export const SyncRequestSchema = z.strictObject({ since: instant.optional(), until: instant.optional() }).openapi("SyncRequest");

export const SyncAcceptedSchema = z
  .object({ provider: z.enum(PROVIDER_NAMES), since: z.iso.datetime(), until: z.iso.datetime() })
  .openapi("SyncAccepted");
