// The web app in a headless Chromium for scripts that are not tests (npm run screenshots, the web
// bench): a page with a CDP virtual authenticator, and a passkey sign-up through the app itself.

/** A page in `context` whose WebAuthn calls a virtual platform authenticator answers at once. */
export async function pageWithAuthenticator(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp };
}

/**
 * Signs up on the open /app page with a passkey and passes the recovery codes; resolves, once the
 * dashboard has settled, with the access token the app then sends (for uploads from the script).
 */
export async function signUpInApp(page, { username, displayName }) {
  let token = "";
  page.on("request", (request) => {
    const authorization = request.headers().authorization;
    if (authorization?.startsWith("Bearer ")) token = authorization.slice(7);
  });
  const form = page.getByRole("form", { name: "Create an account" });
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Display name").fill(displayName);
  await form.getByRole("button", { name: "Sign up with a passkey" }).click();
  await page.getByRole("button", { name: "I have saved them" }).click();
  await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor({ state: "visible" });
  await page.waitForFunction(() => document.querySelector("main")?.getAttribute("aria-busy") === "false");
  if (token === "") throw new Error("the app sent no authenticated request after sign-up");
  return token;
}
