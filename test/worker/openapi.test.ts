import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import committed from "../../sdk/client/openapi.json";

/**
 * /openapi.json is the API's contract: the typed client (sdk/client) is generated from the committed
 * copy, and `npm run openapi:lint` lints that copy. Both are only true if the served document is
 * exactly the committed one (`npm run sdk:generate` rewrites it).
 */
const served = () => exports.default.fetch("http://localhost/openapi.json");

describe("GET /openapi.json (the deployed Worker entry)", () => {
  it("serves exactly the committed sdk/client/openapi.json", async () => {
    const res = await served();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(committed);
  });

  it("names every operation with a unique operationId and declares its security", async () => {
    const doc = await (await served()).json<{
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    }>();
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.filter((operation) => operation.security === undefined)).toEqual([]);
  });
});
