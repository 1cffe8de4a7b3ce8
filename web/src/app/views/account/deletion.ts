/**
 * Deleting the account (/v1/me/deletion/*): a bearer token alone never deletes, so after a confirm
 * the person touches a passkey of this account again. Every session and device ends at once on the
 * server; the page forgets its tokens and says what happens to the data.
 */
import { type PublicKeyCredentialRequestOptionsJSON, startAuthentication } from "@simplewebauthn/browser";
import { h } from "../../dom.ts";
import type { ViewContext } from "../../view.ts";
import { card, change } from "./common.ts";

interface Ceremony {
  flowId: string;
  options: PublicKeyCredentialRequestOptionsJSON;
}

export function deletionPanel(ctx: ViewContext): HTMLElement {
  const { element, body } = card(
    "delete-account",
    "Delete your account",
    "Deletes your account and every piece of your data: observations, uploads, shares, connections. It cannot be undone. Your passkey confirms it.",
  );
  const button = h("button", { type: "button", class: "danger" }, "Delete my account");
  body.append(h("div", { class: "actions" }, button));
  button.addEventListener("click", () => {
    let deleted = false;
    void change(
      ctx,
      {
        confirm: "Delete your account and all of your data? This cannot be undone.",
        busy: "Waiting for your passkey…",
        done: "Your account is deleted; your data is being erased.",
      },
      async () => {
        const ceremony = await ctx.api.request<Ceremony>("POST", "/v1/me/deletion/options", { signal: ctx.signal });
        const response = await startAuthentication({ optionsJSON: ceremony.options });
        await ctx.api.request("POST", "/v1/me/deletion/verify", {
          body: { flowId: ceremony.flowId, response },
          signal: ctx.signal,
        });
        deleted = true;
      },
    ).then(() => {
      // Every token of the account is already refused; forgetting them shows the sign-in page.
      if (deleted) ctx.api.clear();
    });
  });
  return element;
}
