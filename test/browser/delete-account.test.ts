// "Delete my account" on the web app's Account page, on `npm run dev`, with Chromium's WebAuthn
// stack and a CDP virtual authenticator: the deletion asks for the passkey again, every session
// ends at once, and the passkey left on the authenticator signs nobody in afterwards.
import { describe, expect, it } from "vitest";
import {
  openAccount,
  openAppWithoutAutofill,
  signUpKeepingTokens,
  unexpectedProblems,
  visibleText,
  waitForStatus,
} from "./account-page";
import { closeApp } from "./app-page";
import { useDevServerAndBrowser } from "./harness";

const harness = useDevServerAndBrowser();

describe("deleting an account in the web app", () => {
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
