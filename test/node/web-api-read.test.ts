// How the web app reads an answer (web/src/app/api.ts readResponse), against a real HTTP server:
// a view that is left aborts its reads, sometimes after the headers arrived and while the body is
// still on its way. That must surface as an abort (which the page ignores), never as a null answer
// whose `.items` a view would then read and show "Cannot read properties of null" to the person.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProblemError, readResponse } from "../../web/src/app/api.ts";

let server: Server;
let origin = "";

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === "/slow") {
      // The headers and the start of the body, then nothing until the client goes away.
      response.writeHead(200, { "Content-Type": "application/json" });
      response.write('{"items":[');
      return;
    }
    if (request.url === "/broken") {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end('{"items":[');
      return;
    }
    if (request.url === "/problem") {
      response.writeHead(404, { "Content-Type": "application/problem+json" });
      response.end(JSON.stringify({ title: "Not Found", detail: "No such thing." }));
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end('{"items":[1,2]}');
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

describe("readResponse", () => {
  it("reads a JSON answer", async () => {
    expect(await readResponse(await fetch(`${origin}/ok`))).toEqual({ items: [1, 2] });
  });

  it("rejects with the abort when the read is aborted while the body arrives", async () => {
    const leave = new AbortController();
    const response = await fetch(`${origin}/slow`, { signal: leave.signal });
    expect(response.status).toBe(200);
    const reading = readResponse(response);
    leave.abort();
    await expect(reading).rejects.toMatchObject({ name: "AbortError" });
  });

  it("refuses a success whose body is not JSON instead of answering null", async () => {
    const reading = readResponse(await fetch(`${origin}/broken`));
    await expect(reading).rejects.toBeInstanceOf(ProblemError);
    await expect(reading).rejects.toThrow("The server's answer could not be read. Try again.");
  });

  it("turns a problem into the server's detail", async () => {
    await expect(readResponse(await fetch(`${origin}/problem`))).rejects.toMatchObject({
      status: 404,
      message: "No such thing.",
    });
  });
});
