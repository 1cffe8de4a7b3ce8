// A real passkey ceremony end to end: the /portal page served by `npm run dev`, Chromium's WebAuthn
// stack, and a CDP virtual authenticator standing in for the platform authenticator (Touch ID,
// Windows Hello). The page must be opened on `localhost`: that is the RP ID in development, and
// WebAuthn refuses an RP ID that is not the page's host or a registrable suffix of it.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useDevServerAndBrowser } from "./harness";
import { closePortal, openPortal as openPortalOn, signedInGreeting, visibleText } from "./portal-page";

const harness = useDevServerAndBrowser();
const openPortal = () => openPortalOn(harness());

/** CDP reports binary fields in standard base64; the page and the API speak base64url. */
function base64ToBase64url(value: string): string {
  return value.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

describe("passkeys in Chromium through /portal", () => {
  it("registers with a passkey, signs out, and signs in again with it without a username", async () => {
    const portal = await openPortal();
    const { page, cdp, authenticatorId, problems } = portal;
    try {
      const username = `ada-${randomUUID().slice(0, 8)}`;
      const greeting = page.getByRole("heading", { level: 2, name: /^Signed in as / });
      const recovery = page.getByRole("region", { name: "Save your recovery codes" });

      // Sign up: the authenticator creates a discoverable passkey; the recovery codes are shown once.
      const register = page.getByRole("form", { name: "Create an account" });
      await register.getByLabel("Username").fill(username);
      await register.getByLabel("Display name").fill("Ada Lovelace");
      await register.getByRole("button", { name: "Sign up with a passkey" }).click();
      expect(await signedInGreeting(page)).toBe(`Signed in as Ada Lovelace (@${username})`);
      const codes = await recovery.getByRole("listitem").allTextContents();
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      for (const code of codes) expect(code.trim()).not.toBe("");

      // Sign out: back to the forms, the codes are gone from the page.
      await page.getByRole("button", { name: "Sign out" }).click();
      const login = page.getByRole("form", { name: "Sign in" });
      await login.waitFor({ state: "visible" });
      expect(await greeting.count()).toBe(0);
      expect(await page.getByText(codes[0] ?? "no code").count()).toBe(0);

      // Sign in with no username: the options name no credential and the authenticator offers its own.
      const optionsRequest = page.waitForRequest((r) => r.url().endsWith("/v1/auth/login/options"));
      const optionsResponse = page.waitForResponse((r) => r.url().endsWith("/v1/auth/login/options"));
      const verifyRequest = page.waitForRequest((r) => r.url().endsWith("/v1/auth/login/verify"));
      const verifyResponse = page.waitForResponse((r) => r.url().endsWith("/v1/auth/login/verify"));
      const meResponse = page.waitForResponse((r) => r.url().endsWith("/v1/me") && r.request().method() === "GET");
      await login.getByRole("button", { name: "Sign in with a passkey" }).click();
      const secondGreeting = await signedInGreeting(page);

      expect((await optionsRequest).postDataJSON()).toEqual({});
      const { options } = await (await optionsResponse).json();
      expect(options.rpId).toBe("localhost");
      expect(options.allowCredentials ?? []).toEqual([]);
      expect((await verifyResponse).status()).toBe(200);
      const { accessToken } = await (await verifyResponse).json();
      const me = await (await meResponse).json();
      expect(me).toMatchObject({ username, displayName: "Ada Lovelace", role: "patient" });
      expect(secondGreeting).toBe(`Signed in as ${me.displayName} (@${me.username})`);
      expect(await recovery.isVisible()).toBe(false);

      // The one passkey on the authenticator is resident, scoped to localhost, and is the one just used.
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
      const used = (await verifyRequest).postDataJSON();
      expect(used.response.id).toBe(base64ToBase64url(credentials[0]?.credentialId ?? ""));

      // Signing out ends the session on the server, not only in the page.
      await page.getByRole("button", { name: "Sign out" }).click();
      await login.waitFor({ state: "visible" });
      const after = await fetch(`${harness().server.url}/v1/me`, { headers: { Authorization: `Bearer ${accessToken}` } });
      expect(after.status).toBe(401);

      expect(problems).toEqual([]);
    } finally {
      await closePortal(portal);
    }
  });

  it("shows the server's problem detail when a username is already taken, and stays signed out", async () => {
    const portal = await openPortal();
    const { page, problems } = portal;
    try {
      const username = `grace-${randomUUID().slice(0, 8)}`;
      const register = page.getByRole("form", { name: "Create an account" });
      const signUp = async () => {
        await register.getByLabel("Username").fill(username);
        await register.getByRole("button", { name: "Sign up with a passkey" }).click();
      };
      await signUp();
      expect(await signedInGreeting(page)).toBe(`Signed in as ${username} (@${username})`);
      await page.getByRole("button", { name: "Sign out" }).click();
      await register.waitFor({ state: "visible" });

      const refused = page.waitForResponse((r) => r.url().endsWith("/v1/auth/register/verify"));
      await signUp();
      const response = await refused;
      expect(response.status()).toBe(409);
      expect(response.headers()["content-type"]).toBe("application/problem+json");
      const { detail } = await response.json();
      const alert = page.getByRole("alert");
      await alert.waitFor({ state: "visible" });
      expect(await visibleText(alert)).toBe(detail);
      expect(await page.getByRole("heading", { level: 2, name: /^Signed in as / }).count()).toBe(0);
      expect(await register.getByRole("button", { name: "Sign up with a passkey" }).isEnabled()).toBe(true);

      // The refused request is the only thing that went wrong; Chromium logs it on the console too.
      expect(problems.sort()).toEqual(
        [
          `HTTP 409: ${response.url()}`,
          "console: Failed to load resource: the server responded with a status of 409 (Conflict)",
        ].sort(),
      );
    } finally {
      await closePortal(portal);
    }
  });
});
