// Proof that the OAuth client (src/providers/oauth.ts on arctic) never compiles source text:
// bundled the way wrangler bundles the Worker, it runs inside a V8 context that refuses code
// generation from strings, as workerd does while serving a request (the vitest workers harness
// allows it, so the workerd tests alone cannot show this). The provider is a `fetch` defined here.
import { resolve } from "node:path";
import vm from "node:vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

interface Sent {
  url: string;
  authorization: string | null;
  form: Record<string, string>;
}

async function strictContext(sent: Sent[]) {
  const bundle = await build({
    stdin: {
      contents:
        'export { createOAuthClient } from "./src/providers/oauth"; export { PROVIDERS } from "./src/providers/registry";',
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    write: false,
    format: "iife",
    globalName: "pulse",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "import"],
    target: "es2022",
    logLevel: "silent",
  });
  const fakeProvider = async (input: Request | string, init?: RequestInit) => {
    const request = new Request(input, init);
    sent.push({
      url: request.url,
      authorization: request.headers.get("Authorization"),
      form: Object.fromEntries(new URLSearchParams(await request.text())),
    });
    return Response.json({ access_token: "at-vm", refresh_token: "rt-vm", token_type: "Bearer", expires_in: 60 });
  };
  const context = vm.createContext(
    { URL, URLSearchParams, TextEncoder, TextDecoder, Request, Response, Headers, crypto, btoa, atob, fetch: fakeProvider },
    { codeGeneration: { strings: false, wasm: false } },
  );
  vm.runInContext(bundle.outputFiles[0]?.text ?? "", context);
  return context;
}

describe("the arctic OAuth client in a context without code generation", () => {
  it("refuses eval and new Function there", async () => {
    const context = await strictContext([]);
    expect(() => vm.runInContext("new Function('return 1')()", context)).toThrow(/Code generation from strings disallowed/);
  });

  it("builds a PKCE S256 authorize URL and exchanges a code there", async () => {
    const sent: Sent[] = [];
    const context = await strictContext(sent);
    const run = vm.runInContext(
      `(async () => {
        const client = pulse.createOAuthClient(pulse.PROVIDERS.sandbox.oauth, {
          clientId: "vm-client", clientSecret: "vm-secret", redirectUri: "http://localhost/cb",
        });
        const start = client.authorizationUrl("st");
        const tokens = await client.exchangeCode("c0de", start.codeVerifier);
        return JSON.stringify({ url: start.url.toString(), verifier: start.codeVerifier, tokens });
      })`,
      context,
    ) as () => Promise<string>;
    const { url, verifier, tokens } = JSON.parse(await run());

    const params = new URL(url).searchParams;
    expect(params.get("code_challenge_method")).toBe("S256");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    expect(params.get("code_challenge")).toBe(Buffer.from(digest).toString("base64url"));
    expect(sent).toEqual([
      {
        url: "http://localhost:8789/oauth/token",
        authorization: `Basic ${btoa("vm-client:vm-secret")}`,
        form: { grant_type: "authorization_code", code: "c0de", redirect_uri: "http://localhost/cb", code_verifier: verifier },
      },
    ]);
    expect(tokens).toMatchObject({ accessToken: "at-vm", refreshToken: "rt-vm", scopes: null });
  });
});
