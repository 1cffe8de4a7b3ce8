/**
 * Recovery codes (/v1/me/recovery-codes): new ones replace the old at once and are shown only this
 * once, until the person says they have saved them; nothing keeps them after that.
 */
import { h } from "../../dom.ts";
import type { ViewContext } from "../../view.ts";
import { card, change } from "./common.ts";

export function recoveryPanel(ctx: ViewContext): HTMLElement {
  const { element, body } = card(
    "recovery",
    "Recovery codes",
    "If you lose every passkey, one recovery code lets you add a new one. Each works once. Creating new codes makes the old ones stop working.",
  );
  const create = h("button", { type: "button", class: "secondary" }, "Create new recovery codes");
  const idle = () => body.replaceChildren(h("div", { class: "actions" }, create));

  const show = (codes: string[]) => {
    const heading = h("h3", { id: "new-codes-title", tabindex: "-1" }, "Save your new recovery codes");
    const done = h("button", { type: "button" }, "I have saved them");
    done.addEventListener("click", () => {
      idle();
      create.focus();
      ctx.announce("The new recovery codes are no longer shown.");
    });
    body.replaceChildren(
      h(
        "div",
        { class: "recovery", role: "group", "aria-labelledby": "new-codes-title" },
        heading,
        h("p", {}, "They are shown only this once. Your previous codes no longer work."),
        h("ol", { class: "codes", "aria-label": "New recovery codes" }, ...codes.map((code) => h("li", {}, code))),
        h("div", { class: "actions" }, done),
      ),
    );
    heading.focus();
  };

  create.addEventListener("click", () => {
    let codes: string[] = [];
    void change(
      ctx,
      {
        confirm: "Create 10 new recovery codes? The codes you have now will stop working.",
        busy: "Creating new recovery codes…",
        done: "New recovery codes created. Save them now: they are shown only once.",
      },
      async () => {
        ({ recoveryCodes: codes } = await ctx.api.request<{ recoveryCodes: string[] }>("POST", "/v1/me/recovery-codes", {
          signal: ctx.signal,
        }));
      },
    ).then((ok) => {
      if (ok) show(codes);
    });
  });
  idle();
  return element;
}
