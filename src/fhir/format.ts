import type { Resource } from "@medplum/fhirtypes";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { JSONObject } from "hono/utils/types";
import { DomainError } from "../errors/domain-error";
import { FHIR_JSON_UTF8 } from "../http/operation-outcome";
import type { AppEnv } from "../http/types";

/**
 * FHIR content negotiation (R4 §2.21.0.6, http.html#mime-type): Pulse answers JSON only, as
 * `application/fhir+json; charset=utf-8`. `_format` (json, application/json, application/fhir+json)
 * or an `Accept` listing a JSON type or a wildcard gets JSON; asking only for XML (or anything
 * else) is a 406 OperationOutcome, rather than JSON a client would fail to parse as XML.
 */
const JSON_FORMATS = new Set(["json", "application/json", "application/fhir+json"]);
const ACCEPTED_MEDIA = new Set(["application/json", "application/fhir+json", "application/*", "*/*"]);

export const fhirFormat = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const formats = new URL(c.req.url).searchParams.getAll("_format");
    for (const format of formats) {
      // A `+` in a query string decodes to a space: `application/fhir json` is the same request.
      const normal = format.trim().toLowerCase().replace(" ", "+").split(";")[0]?.trim() ?? "";
      if (!JSON_FORMATS.has(normal)) throw notAcceptable(`_format=${format}`);
    }
    const accept = c.req.header("Accept");
    if (formats.length === 0 && accept !== undefined && accept.trim() !== "" && !acceptsJson(accept)) {
      throw notAcceptable(`Accept: ${accept.slice(0, 100)}`);
    }
    await next();
  });

function acceptsJson(accept: string): boolean {
  return accept.split(",").some((range) => {
    const [type = "", ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    // q=0 means "not this one" (RFC 9110 §12.4.2).
    const refused = parameters.some((parameter) => /^q=0(\.0{0,3})?$/.test(parameter));
    return ACCEPTED_MEDIA.has(type) && !refused;
  });
}

function notAcceptable(asked: string): DomainError {
  return new DomainError("NOT_ACCEPTABLE", `This server answers FHIR JSON only (application/fhir+json), not ${asked}.`);
}

/** A FHIR resource as the answer, in FHIR's media type (c.json keeps a Content-Type it is given). */
export function fhirResponse(c: Context<AppEnv>, resource: Resource) {
  // FHIR resources are JSON by construction; their interfaces only lack an index signature.
  return c.json(resource as unknown as JSONObject, 200, { "Content-Type": FHIR_JSON_UTF8 });
}
