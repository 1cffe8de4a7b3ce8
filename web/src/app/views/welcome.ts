/**
 * Signed out: create an account or sign in with a passkey. After sign-up the recovery codes are
 * shown once, before anything else, since they are the only way back without the passkey.
 */
import type { ApiClient } from "../api.ts";
import { cancelAutofill, offerAutofillSignIn, passkeysSupported, register, signIn } from "../auth.ts";
import { field, h } from "../dom.ts";

interface WelcomeContext {
  api: ApiClient;
  run(label: string, task: () => Promise<void>): Promise<boolean>;
  announce(text: string): void;
  onSignedIn(): void;
}

function input(name: string, props: Record<string, string | boolean> = {}): HTMLInputElement {
  return h("input", { name, autocapitalize: "none", spellcheck: "false", maxlength: "64", ...props });
}

export function renderWelcome(ctx: WelcomeContext): HTMLElement {
  const registerUsername = input("username", { autocomplete: "username", required: true });
  const registerDisplayName = input("displayName", { autocomplete: "name", maxlength: "128", spellcheck: "true" });
  // "webauthn" in autocomplete lets the browser offer this site's passkeys as autofill suggestions.
  const loginUsername = input("username", { autocomplete: "username webauthn" });

  const registerForm = h(
    "form",
    { class: "card", "aria-labelledby": "register-title" },
    h("h2", { id: "register-title" }, "Create an account"),
    field("Username", registerUsername),
    field("Display name (optional)", registerDisplayName),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign up with a passkey")),
  );
  const loginForm = h(
    "form",
    { class: "card", "aria-labelledby": "login-title" },
    h("h2", { id: "login-title" }, "Sign in"),
    field("Username (optional)", loginUsername, "Leave it empty to pick one of the passkeys saved on this device."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in with a passkey")),
  );
  const section = h(
    "section",
    { class: "welcome" },
    h("h1", {}, "Pulse"),
    h("p", { class: "lead" }, "Your health data, behind a passkey. No passwords."),
    h("div", { class: "panels" }, registerForm, loginForm),
    h(
      "p",
      { class: "hint" },
      "Your session lives in this page's memory only: reloading the page signs you out. The API reference is at ",
      h("a", { href: "/docs" }, "/docs"),
      ".",
    ),
  );

  const showRecoveryCodes = (codes: string[]) => {
    const done = h("button", { type: "button" }, "I have saved them");
    done.addEventListener("click", ctx.onSignedIn);
    const heading = h("h1", { tabindex: "-1" }, "Save your recovery codes");
    section.replaceChildren(
      h(
        "section",
        { class: "card recovery", "aria-labelledby": "recovery-title" },
        heading,
        h(
          "p",
          {},
          "They are shown only this once. Each code works one time and lets you add a new passkey if you lose this one.",
        ),
        h("ol", { class: "codes" }, ...codes.map((code) => h("li", {}, code))),
        h("div", { class: "actions" }, done),
      ),
    );
    heading.id = "recovery-title";
    heading.focus();
  };

  // A button's ceremony ends the autofill offer (one WebAuthn request at a time); when it fails, the
  // passkeys are offered in the username field again.
  const offerAutofill = () => void offerAutofillSignIn(ctx.api, ctx.onSignedIn);

  registerForm.addEventListener("submit", (event) => {
    event.preventDefault();
    cancelAutofill();
    let codes: string[] = [];
    void ctx
      .run("Waiting for your passkey…", async () => {
        codes = await register(ctx.api, registerUsername.value.trim(), registerDisplayName.value.trim());
      })
      .then((ok) => {
        if (!ok) offerAutofill();
        else if (codes.length > 0) showRecoveryCodes(codes);
        else ctx.onSignedIn();
      });
  });
  loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    cancelAutofill();
    void ctx
      .run("Waiting for your passkey…", () => signIn(ctx.api, loginUsername.value.trim()))
      .then((ok) => {
        if (ok) ctx.onSignedIn();
        else offerAutofill();
      });
  });

  if (!passkeysSupported()) {
    section.append(h("p", { class: "problem", role: "alert" }, "This browser does not support passkeys."));
    for (const button of section.querySelectorAll("button")) button.disabled = true;
  } else {
    offerAutofill();
  }
  return section;
}
