/**
 * Passkey ceremonies under /v1/auth (DESIGN §4). All of them are unauthenticated and spend the
 * per-IP auth quota; the per-account quota is spent inside, once the account is known. Passkey
 * management and recovery register their own routes from here.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { problemResponses } from "../../http/openapi";
import type { App } from "../../http/types";
import { authIpLimit } from "../rate-limits";
import { registerRecoveryRoutes } from "../recovery/routes";
import { TokenBodySchema } from "../schema";
import { ceremonyContext } from "./context";
import { finishLogin, startLogin } from "./login";
import { registerPasskeyManagementRoutes } from "./management-routes";
import { finishRegistration, startRegistration } from "./register";
import {
  AuthenticationCeremonySchema,
  LoginOptionsRequestSchema,
  LoginVerifyRequestSchema,
  RegisterOptionsRequestSchema,
  RegisterVerifyRequestSchema,
  RegistrationCeremonySchema,
} from "./schema";

const json = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

const RegistrationResultSchema = TokenBodySchema.extend({
  recoveryCodes: z.array(z.string()).openapi({ description: "10 single-use recovery codes, shown only this once" }),
}).openapi("RegistrationResult");

const registerOptions = createRoute({
  method: "post",
  path: "/v1/auth/register/options",
  operationId: "startRegistration",
  security: [],
  tags: ["Auth"],
  summary: "Start registering a new account with a passkey",
  description: "The answer is the same whether or not the username is taken; a taken name is refused at verify (409).",
  middleware: [authIpLimit()] as const,
  request: { body: json(RegisterOptionsRequestSchema) },
  responses: {
    200: {
      description: "Creation options for navigator.credentials.create()",
      content: { "application/json": { schema: RegistrationCeremonySchema } },
    },
    ...problemResponses(400, 415, 429),
  },
});

const registerVerify = createRoute({
  method: "post",
  path: "/v1/auth/register/verify",
  operationId: "finishRegistration",
  security: [],
  tags: ["Auth"],
  summary: "Finish registration: creates the account, its first passkey and session, and recovery codes",
  middleware: [authIpLimit()] as const,
  request: { body: json(RegisterVerifyRequestSchema) },
  responses: {
    201: { description: "Account created and signed in", content: { "application/json": { schema: RegistrationResultSchema } } },
    ...problemResponses(400, 401, 409, 415, 429),
  },
});

const loginOptions = createRoute({
  method: "post",
  path: "/v1/auth/login/options",
  operationId: "startLogin",
  security: [],
  tags: ["Auth"],
  summary: "Start signing in with a passkey (the username is optional: passkeys are discoverable)",
  middleware: [authIpLimit()] as const,
  request: { body: json(LoginOptionsRequestSchema) },
  responses: {
    200: {
      description: "Request options for navigator.credentials.get()",
      content: { "application/json": { schema: AuthenticationCeremonySchema } },
    },
    ...problemResponses(400, 415, 429),
  },
});

const loginVerify = createRoute({
  method: "post",
  path: "/v1/auth/login/verify",
  operationId: "finishLogin",
  security: [],
  tags: ["Auth"],
  summary: "Finish signing in with a passkey",
  middleware: [authIpLimit()] as const,
  request: { body: json(LoginVerifyRequestSchema) },
  responses: {
    200: { description: "Signed in", content: { "application/json": { schema: TokenBodySchema } } },
    ...problemResponses(400, 401, 415, 429),
  },
});

export function registerPasskeyRoutes(app: App): void {
  app.openapi(registerOptions, async (c) => c.json(await startRegistration(ceremonyContext(c), c.req.valid("json")), 200));
  app.openapi(registerVerify, async (c) => c.json(await finishRegistration(ceremonyContext(c), c.req.valid("json")), 201));
  app.openapi(loginOptions, async (c) => c.json(await startLogin(ceremonyContext(c), c.req.valid("json")), 200));
  app.openapi(loginVerify, async (c) => c.json(await finishLogin(ceremonyContext(c), c.req.valid("json")), 200));
  registerPasskeyManagementRoutes(app);
  registerRecoveryRoutes(app);
}
