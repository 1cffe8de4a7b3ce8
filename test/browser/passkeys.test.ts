// The web app (/app) served by `npm run dev`: signing up, navigating and signing out with no
// console error, CSP violation or failed request; passkeys (button and autofill), sessions and
// recovery codes end to end, and deleting the account (the passkey then signs nobody in),
// with Chromium's WebAuthn stack and CDP virtual authenticators standing in for the platform
// authenticator (Touch ID, Windows Hello) and a security key. The page is opened on `localhost`: that
// is the RP ID in development, and WebAuthn refuses an RP ID that is not the page's host or a
// registrable suffix of it.
import type { Route } from "playwright-core";
import { describe, expect, it } from "vitest";
import {
  acceptNextDialog,
  copyPasskeys,
  openAccount,
  openAppWithoutAutofill,
  seriousAccessibilityProblems,
  signUpKeepingTokens,
  unexpectedProblems,
  visibleText,
  waitForStatus,
} from "./account-page";
import { closeApp, openApp, signUp, waitForHeading } from "./app-page";
import { useDevServerAndBrowser } from "./harness";

const harness = useDevServerAndBrowser();

/** CDP reports binary fields in standard base64; the page and the API speak base64url. */
function base64ToBase64url(value: string): string {
  return value.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function apiStatus(path: string, init: { token?: string; body?: unknown } = {}): Promise<number> {
  const res = await fetch(`${harness().server.url}${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers: {
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  await res.body?.cancel();
  return res.status;
}

describe("passkeys in Chromium through the web app", () => {
  it("signs up with a passkey, shows the recovery codes once, navigates, and signs out", async () => {
    const app = await openAppWithoutAutofill(harness());
    const { page } = app;
    try {
      const { codes } = await signUp(app);
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      expect(await page.getByText(codes[0] ?? "no code").count()).toBe(0);
      expect(await page.title()).toBe("Dashboard — Pulse");

      // The navigation is links to hash routes; the current one is marked for assistive technology.
      await page.getByRole("link", { name: "Ask" }).click();
      await waitForHeading(page, "Ask about your data");
      expect(page.url()).toMatch(/#\/ask$/);
      expect(await page.getByRole("link", { name: "Ask" }).getAttribute("aria-current")).toBe("page");
      await page.goBack();
      await waitForHeading(page, "Dashboard");

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("form", { name: "Sign in" }).waitFor({ state: "visible" });
      expect(app.problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("offers the saved passkey in the username field's autofill, and again after a failed button sign-in", async () => {
    // Autofill on: Chromium's virtual authenticator picks the offered passkey by itself, as a person
    // would from the suggestions. The offers' requests (no username) are held until the test lets
    // them go, so the order of events is the test's, not the machine's.
    const app = await openApp(harness());
    const { page } = app;
    try {
      const { username } = await signUp(app);
      const held: Route[] = [];
      await page.route("**/v1/auth/login/options", async (route) => {
        if (route.request().postData() === "{}") held.push(route);
        else
          await route.fulfill({
            status: 503,
            contentType: "application/problem+json",
            body: JSON.stringify({ title: "Service Unavailable", status: 503, detail: "Pulse is busy. Try again in a minute." }),
          });
      });
      await page.getByRole("button", { name: "Sign out" }).click();
      const login = page.getByRole("form", { name: "Sign in" });
      await login.waitFor({ state: "visible" });
      await expect.poll(() => held.length).toBe(1);

      // The button's sign-in ends the pending offer; refused, it says why and offers autofill again.
      await login.getByLabel("Username (optional)").fill(username);
      await login.getByRole("button", { name: "Sign in with a passkey" }).click();
      await expect.poll(() => visibleText(page.getByRole("alert"))).toBe("Pulse is busy. Try again in a minute.");
      await expect.poll(() => held.length).toBe(2);
      // The cancelled offer's options arrive late: nothing starts from them, the page stays as it is.
      const late = page.waitForResponse((r) => r.request() === held[0]?.request());
      await held[0]?.continue();
      await late;
      expect(await login.isVisible()).toBe(true);

      // The new offer is taken: signed in without a click, and the header names the person.
      const verified = page.waitForResponse((r) => r.url().endsWith("/v1/auth/login/verify"));
      await held[1]?.continue();
      expect((await verified).status()).toBe(200);
      // (waitForHeading would stop at the refusal still shown until the dashboard replaces it.)
      await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
      expect(await visibleText(page.getByRole("banner"))).toContain("Ada Lovelace");
      expect(await page.getByRole("alert").isVisible()).toBe(false);
      expect(unexpectedProblems(app.problems, [/^HTTP 503: .*\/v1\/auth\/login\/options$/])).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("registers with a passkey, signs out, and signs in again with it without a username", async () => {
    const app = await openAppWithoutAutofill(harness());
    const { page, cdp, authenticatorId, problems } = app;
    try {
      const { username, codes } = await signUp(app);
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).not.toBe("");

      // Sign out: back to the forms, the codes are gone from the page.
      await page.getByRole("button", { name: "Sign out" }).click();
      const login = page.getByRole("form", { name: "Sign in" });
      await login.waitFor({ state: "visible" });
      expect(await page.getByText(codes[0] ?? "no code").count()).toBe(0);

      // Sign in with no username: the options name no credential and the authenticator offers its own.
      const optionsRequest = page.waitForRequest((r) => r.url().endsWith("/v1/auth/login/options") && r.postData() === "{}");
      const optionsResponse = page.waitForResponse(
        (r) => r.url().endsWith("/v1/auth/login/options") && r.request().postData() === "{}",
      );
      const verifyRequest = page.waitForRequest((r) => r.url().endsWith("/v1/auth/login/verify"));
      const verifyResponse = page.waitForResponse((r) => r.url().endsWith("/v1/auth/login/verify"));
      const meResponse = page.waitForResponse((r) => r.url().endsWith("/v1/me") && r.request().method() === "GET");
      await login.getByRole("button", { name: "Sign in with a passkey" }).click();
      await waitForHeading(page, "Dashboard");

      expect((await optionsRequest).postDataJSON()).toEqual({});
      const { options } = await (await optionsResponse).json();
      expect(options.rpId).toBe("localhost");
      expect(options.allowCredentials ?? []).toEqual([]);
      expect((await verifyResponse).status()).toBe(200);
      const { accessToken } = await (await verifyResponse).json();
      const me = await (await meResponse).json();
      expect(me).toMatchObject({ username, displayName: "Ada Lovelace", role: "patient" });
      expect(await page.getByRole("heading", { name: "Save your recovery codes" }).count()).toBe(0);
      // Who is signed in: the header names the person, the Account page their username.
      expect(await visibleText(page.getByRole("banner"))).toContain("Ada Lovelace");
      await openAccount(page);
      const profile = await visibleText(page.getByRole("region", { name: "Profile" }));
      expect(profile).toContain("Ada Lovelace");
      expect(profile).toContain(username);

      // The one passkey on the authenticator is resident, scoped to localhost, and is the one just used.
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
      const used = (await verifyRequest).postDataJSON();
      expect(used.response.id).toBe(base64ToBase64url(credentials[0]?.credentialId ?? ""));

      // Signing out (the header's button) ends the session on the server, not only in the page.
      await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
      await login.waitFor({ state: "visible" });
      expect(await apiStatus("/v1/me", { token: accessToken })).toBe(401);

      expect(problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("shows the server's problem detail when a username is refused or taken, and stays signed out", async () => {
    const app = await openAppWithoutAutofill(harness());
    const { page, problems } = app;
    try {
      const register = page.getByRole("form", { name: "Create an account" });
      const alert = page.getByRole("alert");

      // A refused field is named with its reason, not only "did not match the expected shape".
      await register.getByLabel("Username").fill("not a name");
      const invalid = page.waitForResponse((r) => r.url().endsWith("/v1/auth/register/options"));
      await register.getByRole("button", { name: "Sign up with a passkey" }).click();
      expect((await invalid).status()).toBe(400);
      await alert.waitFor({ state: "visible" });
      expect(await visibleText(alert)).toMatch(/^The request did not match the expected shape\. \(username: .+\)$/);

      const { username } = await signUp(app);
      await page.getByRole("button", { name: "Sign out" }).click();
      await register.waitFor({ state: "visible" });

      const refused = page.waitForResponse((r) => r.url().endsWith("/v1/auth/register/verify"));
      await register.getByLabel("Username").fill(username);
      await register.getByRole("button", { name: "Sign up with a passkey" }).click();
      const response = await refused;
      expect(response.status()).toBe(409);
      expect(response.headers()["content-type"]).toBe("application/problem+json");
      const { detail } = await response.json();
      await expect.poll(() => visibleText(alert)).toBe(detail);
      expect(await page.getByRole("heading", { name: "Dashboard" }).count()).toBe(0);
      expect(await register.getByRole("button", { name: "Sign up with a passkey" }).isEnabled()).toBe(true);

      // The two refused requests are the only things that went wrong.
      expect(
        unexpectedProblems(problems, [
          /^HTTP 400: .*\/v1\/auth\/register\/options$/,
          /^HTTP 409: .*\/v1\/auth\/register\/verify$/,
        ]),
      ).toEqual([]);
      expect(problems.filter((p) => p.startsWith("HTTP "))).toHaveLength(2);
    } finally {
      await closeApp(app);
    }
  });

  it("adds a second passkey from a security key, renames it, removes it, and the list follows", async () => {
    const app = await openAppWithoutAutofill(harness());
    const { page, cdp, problems } = app;
    try {
      const { username } = await signUp(app, "Grace Hopper");
      await openAccount(page);
      expect(await page.title()).toBe("Account — Pulse");
      const profile = await visibleText(page.getByRole("region", { name: "Profile" }));
      expect(profile).toContain("Grace Hopper");
      expect(profile).toContain(username);
      expect(profile).toContain("Patient");

      const passkeys = page.getByRole("region", { name: "Passkeys" });
      const rows = passkeys.getByRole("table", { name: "Your passkeys" }).locator("tbody tr");
      expect(await rows.count()).toBe(1);
      expect(await seriousAccessibilityProblems(page)).toEqual([]);

      // A security key next to the laptop's authenticator; the laptop's one already holds a passkey
      // for this account (excluded), so only the key is touched.
      await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId: app.authenticatorId, enabled: false });
      const { authenticatorId: securityKey } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: {
          protocol: "ctap2",
          transport: "usb",
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      await passkeys.getByLabel("Name of the new passkey (optional)").fill("Blue key");
      const added = page.waitForResponse((r) => r.url().endsWith("/v1/me/passkeys/verify"));
      await passkeys.getByRole("button", { name: "Add a passkey" }).click();
      expect((await added).status()).toBe(201);
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
      await waitForStatus(page, "Passkey added.");
      expect(await visibleText(rows.nth(1))).toContain("Blue key");
      expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId: securityKey })).credentials).toHaveLength(1);

      // Renaming: a blank name is refused with the server's reason; a real one is saved.
      await passkeys.getByRole("button", { name: "Rename Blue key" }).click();
      const renameForm = passkeys.getByRole("form", { name: "Rename Blue key" });
      await renameForm.getByLabel("New name").fill("   ");
      const blank = page.waitForResponse((r) => r.request().method() === "PATCH");
      await renameForm.getByRole("button", { name: "Save" }).click();
      expect((await blank).status()).toBe(400);
      const alert = page.getByRole("alert");
      await alert.waitFor({ state: "visible" });
      expect(await visibleText(alert)).toContain("name: must not be empty");
      await renameForm.getByLabel("New name").fill("Work key");
      await renameForm.getByRole("button", { name: "Save" }).click();
      await waitForStatus(page, "Passkey renamed to Work key.");
      expect(await visibleText(rows.nth(1))).toContain("Work key");
      expect(await alert.isVisible()).toBe(false);

      // Removing asks first: dismissed, nothing changes; accepted, the row goes.
      page.once("dialog", (dialog) => void dialog.dismiss());
      await passkeys.getByRole("button", { name: "Remove Work key" }).click();
      expect(await rows.count()).toBe(2);
      acceptNextDialog(page, /^Remove the passkey "Work key"\?/);
      const removed = page.waitForResponse((r) => r.request().method() === "DELETE");
      await passkeys.getByRole("button", { name: "Remove Work key" }).click();
      expect((await removed).status()).toBe(204);
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
      await waitForStatus(page, "Passkey Work key removed.");
      expect(await visibleText(passkeys)).not.toContain("Work key");

      expect(unexpectedProblems(problems, [/^HTTP 400: .*\/v1\/me\/passkeys\/[A-Za-z0-9_-]+$/])).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("signs out another browser's session, which is signed out at its next request", async () => {
    const harnessNow = harness();
    const mine = await openAppWithoutAutofill(harnessNow);
    const other = await openAppWithoutAutofill(harnessNow);
    try {
      const { username } = await signUp(mine);
      // The same passkey in the other browser, as a synced passkey would be; it signs in there.
      await copyPasskeys(mine, other);
      const login = other.page.getByRole("form", { name: "Sign in" });
      await login.getByLabel("Username (optional)").fill(username);
      await login.getByRole("button", { name: "Sign in with a passkey" }).click();
      await waitForHeading(other.page, "Dashboard");

      await openAccount(mine.page);
      const sessions = mine.page.getByRole("region", { name: "Sessions" });
      const rows = sessions.getByRole("table", { name: "Your sessions" }).locator("tbody tr");
      expect(await rows.count()).toBe(2);
      const current = rows.filter({ hasText: "this session" });
      expect(await current.count()).toBe(1);
      expect(await current.getAttribute("aria-current")).toBe("true");

      // The other session (newest first: the other browser signed in last) is signed out.
      const theOther = rows.filter({ hasNotText: "this session" });
      acceptNextDialog(mine.page, /^Sign out the session of Chrome on Linux, started /);
      await theOther.getByRole("button", { name: /^Sign out the session started / }).click();
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
      await waitForStatus(mine.page, "Session signed out.");
      expect(await visibleText(rows.first())).toContain("this session");

      // The other browser's next request is refused, its refresh too, and it shows the sign-in page.
      await other.page.getByRole("link", { name: "Account" }).click();
      await other.page.getByRole("form", { name: "Sign in" }).waitFor({ state: "visible" });
      expect(await other.page.getByRole("link", { name: "Account" }).count()).toBe(0);

      // This browser is still signed in.
      await mine.page.getByRole("link", { name: "Dashboard" }).click();
      await waitForHeading(mine.page, "Dashboard");
      expect(mine.problems).toEqual([]);
      expect(
        unexpectedProblems(other.problems, [/^HTTP 401: .*\/v1\/me\/[a-z-]+(\?.*)?$/, /^HTTP 401: .*\/v1\/auth\/refresh$/]),
      ).toEqual([]);
      expect(other.problems.some((p) => /^HTTP 401: .*\/v1\/auth\/refresh$/.test(p))).toBe(true);
    } finally {
      await closeApp(mine);
      await closeApp(other);
    }
  });

  it("replaces the recovery codes after a confirm, shows the new ones once, and the old ones stop working", async () => {
    // On a phone: the page fits the width, its tables scrolling inside their own box.
    const app = await openAppWithoutAutofill(harness(), { viewport: { width: 375, height: 740 } });
    const { page, problems } = app;
    try {
      const { username, codes: oldCodes } = await signUpKeepingTokens(app);
      await openAccount(page);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      const recovery = page.getByRole("region", { name: "Recovery codes" });

      page.once("dialog", (dialog) => void dialog.dismiss());
      await recovery.getByRole("button", { name: "Create new recovery codes" }).click();
      expect(await recovery.getByRole("listitem").count()).toBe(0);

      acceptNextDialog(page, /The codes you have now will stop working/);
      const created = page.waitForResponse((r) => r.url().endsWith("/v1/me/recovery-codes"));
      await recovery.getByRole("button", { name: "Create new recovery codes" }).click();
      const { recoveryCodes } = (await (await created).json()) as { recoveryCodes: string[] };
      const shown = recovery.getByRole("list", { name: "New recovery codes" }).getByRole("listitem");
      await expect.poll(() => shown.count(), { timeout: 30_000 }).toBe(10);
      expect((await shown.allTextContents()).map((code) => code.trim())).toEqual(recoveryCodes);
      for (const code of recoveryCodes) expect(oldCodes).not.toContain(code);
      expect(
        await page.getByRole("heading", { name: "Save your new recovery codes" }).evaluate((e) => e === document.activeElement),
      ).toBe(true);

      expect(await seriousAccessibilityProblems(page)).toEqual([]);
      await recovery.getByRole("button", { name: "I have saved them" }).click();
      expect(await recovery.getByRole("listitem").count()).toBe(0);
      expect(await page.getByText(recoveryCodes[0] ?? "no code").count()).toBe(0);

      // An old code is refused; a new one opens a recovery session.
      expect(await apiStatus("/v1/auth/recover", { body: { username, code: oldCodes[0] } })).toBe(401);
      expect(await apiStatus("/v1/auth/recover", { body: { username, code: recoveryCodes[0] } })).toBe(200);
      expect(problems).toEqual([]);
    } finally {
      await closeApp(app);
    }
  });

  it("asks to confirm, takes a fresh passkey assertion, deletes, and the passkey no longer signs in", async () => {
    const app = await openAppWithoutAutofill(harness());
    const { page, cdp, authenticatorId, problems } = app;
    try {
      const { accessToken } = await signUpKeepingTokens(app, "Grace");
      await openAccount(page);
      const deleteButton = page.getByRole("button", { name: "Delete my account" });

      // Cancelling the confirmation deletes nothing and asks no passkey.
      let confirmations = 0;
      page.once("dialog", (dialog) => {
        confirmations++;
        void dialog.dismiss();
      });
      await deleteButton.click();
      await expect.poll(() => confirmations).toBe(1);
      expect(await page.getByRole("heading", { level: 1, name: "Account" }).isVisible()).toBe(true);
      const stillThere = await fetch(`${harness().server.url}/v1/me`, { headers: { Authorization: `Bearer ${accessToken}` } });
      expect(stillThere.status).toBe(200);

      // Confirmed: options for this account's passkey only, a new assertion, 202, signed out.
      page.once("dialog", (dialog) => {
        expect(dialog.message()).toMatch(/cannot be undone/);
        void dialog.accept();
      });
      const options = page.waitForResponse((r) => r.url().endsWith("/v1/me/deletion/options"));
      const verify = page.waitForResponse((r) => r.url().endsWith("/v1/me/deletion/verify"));
      await deleteButton.click();
      const ceremony = await (await options).json();
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(ceremony.options.userVerification).toBe("required");
      expect(ceremony.options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([
        (credentials[0]?.credentialId ?? "").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
      ]);
      expect((await verify).status()).toBe(202);
      await waitForStatus(page, "Your account is deleted; your data is being erased.");
      const login = page.getByRole("form", { name: "Sign in" });
      await login.waitFor({ state: "visible" });

      // The token from sign-up is refused at once.
      const after = await fetch(`${harness().server.url}/v1/me`, { headers: { Authorization: `Bearer ${accessToken}` } });
      expect(after.status).toBe(401);

      // The passkey is still on the authenticator, and Chromium offers it; Pulse refuses it.
      expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials).toHaveLength(1);
      const refused = page.waitForResponse((r) => r.url().endsWith("/v1/auth/login/verify"));
      await login.getByRole("button", { name: "Sign in with a passkey" }).click();
      expect((await refused).status()).toBe(401);
      const alert = page.getByRole("alert");
      await alert.waitFor({ state: "visible" });
      expect(await visibleText(alert)).not.toBe("");
      expect(await page.getByRole("heading", { level: 1, name: "Dashboard" }).count()).toBe(0);

      // The refused sign-in (its HTTP 401 and Chromium's console line for it) is the only problem met.
      expect(unexpectedProblems(problems, [/^HTTP 401: .*\/v1\/auth\/login\/verify$/])).toEqual([]);
      expect(problems.filter((p) => p.startsWith("HTTP "))).toHaveLength(1);
    } finally {
      await closeApp(app);
    }
  });
});
