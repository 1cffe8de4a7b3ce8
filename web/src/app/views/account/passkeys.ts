/**
 * The account's passkeys (/v1/me/passkeys): add one on this device or a security key, rename,
 * remove. The server refuses to remove the last passkey while no unused recovery code remains;
 * the page shows its reason rather than guessing the rule.
 */
import { type PublicKeyCredentialCreationOptionsJSON, startRegistration } from "@simplewebauthn/browser";
import { field, formatDateTime, h } from "../../dom.ts";
import type { ViewContext } from "../../view.ts";
import { card, change, focusHeading, formatDate, type Page, type Panel, table } from "./common.ts";

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
}

interface Ceremony {
  flowId: string;
  options: PublicKeyCredentialCreationOptionsJSON;
}

export function passkeysPanel(ctx: ViewContext): Panel {
  const { element, body } = card(
    "passkeys",
    "Passkeys",
    "Each passkey signs you in on its own. Keep at least two, or your recovery codes, so losing a device does not lock you out.",
  );
  const newName = h("input", { name: "passkeyName", maxlength: "64", autocomplete: "off", placeholder: "Work laptop" });
  const addForm = h(
    "form",
    { class: "inline-form", "aria-label": "Add a passkey" },
    field("Name of the new passkey (optional)", newName),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add a passkey")),
  );
  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = newName.value.trim();
    void change(ctx, { busy: "Waiting for your new passkey…", done: "Passkey added." }, async () => {
      const ceremony = await ctx.api.request<Ceremony>("POST", "/v1/me/passkeys/options", { signal: ctx.signal });
      // excludeCredentials in the options makes an authenticator that already holds one refuse.
      const response = await startRegistration({ optionsJSON: ceremony.options });
      await ctx.api.request("POST", "/v1/me/passkeys/verify", {
        body: name === "" ? { flowId: ceremony.flowId, response } : { flowId: ceremony.flowId, response, name },
        signal: ctx.signal,
      });
      addForm.reset();
      await refresh();
    });
  });
  element.append(addForm);

  const rename = (passkey: Passkey, row: HTMLTableRowElement) => {
    const input = h("input", { name: "name", maxlength: "64", required: true, autocomplete: "off", value: passkey.name });
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const form = h(
      "form",
      { class: "inline-form", "aria-label": `Rename ${passkey.name}` },
      field("New name", input),
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Save"), cancel),
    );
    const cell = h("td", { colspan: "4" }, form);
    const original = [...row.children];
    row.replaceChildren(cell);
    input.focus();
    input.select();
    cancel.addEventListener("click", () => {
      row.replaceChildren(...original);
      row.querySelector<HTMLButtonElement>("button")?.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value.trim();
      void change(ctx, { busy: "Renaming…", done: `Passkey renamed to ${name}.` }, async () => {
        await ctx.api.request("PATCH", `/v1/me/passkeys/${encodeURIComponent(passkey.id)}`, {
          body: { name },
          signal: ctx.signal,
        });
        await refresh();
      });
    });
  };

  const remove = (passkey: Passkey, last: boolean) =>
    void change(
      ctx,
      {
        confirm: last
          ? `Remove "${passkey.name}", your only passkey? Until you add another, only a recovery code will let you back in.`
          : `Remove the passkey "${passkey.name}"? It will no longer sign you in.`,
        busy: "Removing the passkey…",
        done: `Passkey ${passkey.name} removed.`,
      },
      async () => {
        await ctx.api.request("DELETE", `/v1/me/passkeys/${encodeURIComponent(passkey.id)}`, { signal: ctx.signal });
        await refresh();
        focusHeading(element);
      },
    );

  const refresh = async () => {
    const { items } = await ctx.api.request<Page<Passkey>>("GET", "/v1/me/passkeys", { signal: ctx.signal });
    const rows = items.map((passkey) => {
      const row = h("tr", { "data-passkey": passkey.id });
      const renameButton = h("button", { type: "button", class: "secondary", "aria-label": `Rename ${passkey.name}` }, "Rename");
      const removeButton = h("button", { type: "button", class: "danger", "aria-label": `Remove ${passkey.name}` }, "Remove");
      renameButton.addEventListener("click", () => rename(passkey, row));
      removeButton.addEventListener("click", () => remove(passkey, items.length === 1));
      row.append(
        h(
          "th",
          { scope: "row" },
          passkey.name,
          passkey.deviceType === "multiDevice" ? h("span", { class: "tag" }, "synced") : null,
        ),
        h("td", {}, formatDate(passkey.createdAt)),
        h("td", {}, passkey.lastUsedAt === null ? "never" : formatDateTime(passkey.lastUsedAt)),
        h("td", { class: "row-actions" }, renameButton, removeButton),
      );
      return row;
    });
    body.replaceChildren(table("Your passkeys", ["Name", "Added", "Last used", "Actions"], rows));
  };

  return { element, refresh };
}
