/**
 * What a person and a test do at the sandbox provider (tools/sandbox-provider), for the workerd
 * tests of the connection flow: approve or deny its consent page as a browser would, set failure
 * modes, and make new data arrive. Plain `fetch`, so it runs in workerd and in Node.
 */

/**
 * Opens the sandbox's authorize URL and submits its consent form. Answers the redirect the browser
 * would follow: `redirect_uri?code&state`, or `?error=access_denied&state` when denied.
 */
export async function answerSandboxConsent(
  authorizeUrl: URL | string,
  options: { account?: string; timeZone?: string; decision?: "approve" | "deny" } = {},
): Promise<URL> {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  const consent = /name="consent" value="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !consent) throw new Error(`the sandbox showed no consent form (HTTP ${page.status})`);
  const answer = await fetch(new URL("/oauth/authorize", authorizeUrl), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      consent,
      decision: options.decision ?? "approve",
      account: options.account ?? "demo",
      time_zone: options.timeZone ?? "Europe/Berlin",
    }),
    redirect: "manual",
  });
  const location = answer.headers.get("location");
  await answer.body?.cancel();
  if (answer.status !== 303 || location === null) throw new Error(`the sandbox did not redirect (HTTP ${answer.status})`);
  return new URL(location);
}

/** `POST /_sandbox/users/{id}/control`: e.g. `{rateLimit: {remaining: 0, retryAfter: 30}}`, `{failNext: 500}`. */
export async function controlSandboxUser(origin: string, userId: string, body: unknown): Promise<void> {
  const response = await fetch(`${origin}/_sandbox/users/${encodeURIComponent(userId)}/control`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.body?.cancel();
  if (response.status !== 200) throw new Error(`sandbox control answered HTTP ${response.status}`);
}

export interface SandboxPush {
  /** The signed webhook: POST `body` with `headers` to `/webhooks/sandbox` to deliver it. */
  delivery: { url: string | null; method: "POST"; headers: Record<string, string>; body: string };
  receiver: { status: number } | { error: string } | null;
}

/** New data arrives for the user (up to now): answers the signed webhook announcing it. */
export async function pushSandboxData(origin: string, userId: string): Promise<SandboxPush> {
  const response = await fetch(`${origin}/_sandbox/users/${encodeURIComponent(userId)}/push`, { method: "POST", body: "{}" });
  if (response.status !== 200) throw new Error(`sandbox push answered HTTP ${response.status}`);
  return (await response.json()) as SandboxPush;
}
