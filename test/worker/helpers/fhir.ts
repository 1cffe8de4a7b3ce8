import { env } from "cloudflare:workers";
import type { Bundle, Observation, OperationOutcome } from "@medplum/fhirtypes";
import { expect } from "vitest";
import type { IngestBatchInput } from "../../../durable-objects/health-store/batch-schema";
import { healthStoreFor } from "../../../durable-objects/health-store/client";
import type { StoreAuditContext } from "../../../durable-objects/health-store/schema";
import type { App } from "../../../src/http/types";
import type { SessionUser } from "./session-user";
import { call } from "./test-app";

/** Helpers of the FHIR API's tests: requests, the answers' media type, and Bundles followed to the end. */
export const FHIR_BASE = "http://localhost/v1/fhir";
export const FHIR_CONTENT_TYPE = "application/fhir+json; charset=utf-8";

export function systemAudit(userId: string): StoreAuditContext {
  return { actor: "etl", role: "system", subject: userId, reason: null, requestId: null, ip: null };
}

export async function store(userId: string, batch: IngestBatchInput): Promise<void> {
  await healthStoreFor(env.HEALTH_STORE, userId).ingestBatch(batch, systemAudit(userId));
}

export function fhirGet(
  app: App,
  user: SessionUser | null,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(app, path.startsWith("http") ? path.slice("http://localhost".length) : path, {
    headers: { ...(user === null ? {} : user.headers), ...headers },
  });
}

export async function fhirOk<T>(res: Response): Promise<T> {
  if (res.status !== 200) expect.fail(`expected 200, got ${res.status}: ${await res.text()}`);
  expect(res.headers.get("Content-Type")).toBe(FHIR_CONTENT_TYPE);
  return res.json<T>();
}

/** An OperationOutcome with this status; its first issue's text is returned. */
export async function expectOutcome(res: Response, status: number, issueCode: string): Promise<OperationOutcome> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe(FHIR_CONTENT_TYPE);
  const body = await res.json<OperationOutcome>();
  expect(body.resourceType).toBe("OperationOutcome");
  expect(body.issue?.[0]?.code).toBe(issueCode);
  return body;
}

/** Every Observation of a search, following `next` links; the pages' sizes too. */
export async function searchAll(
  app: App,
  user: SessionUser,
  path: string,
  headers: Record<string, string> = {},
  between?: (page: number) => Promise<void>,
): Promise<{ resources: Observation[]; pages: number[]; bundles: Bundle[] }> {
  const resources: Observation[] = [];
  const pages: number[] = [];
  const bundles: Bundle[] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    const bundle: Bundle = await fhirOk<Bundle>(await fhirGet(app, user, next, headers));
    bundles.push(bundle);
    const entries = bundle.entry ?? [];
    pages.push(entries.length);
    for (const entry of entries) resources.push(entry.resource as Observation);
    next = bundle.link?.find((link) => link.relation === "next")?.url;
    if (pages.length > 200) expect.fail("paging did not end");
    if (between !== undefined) await between(pages.length);
  }
  return { resources, pages, bundles };
}

export const ids = (resources: readonly { id?: string | undefined }[]) => resources.map((resource) => resource.id);
