/**
 * The account page: who you are, and everything that can get into the account — passkeys,
 * sessions, device credentials, recovery codes — each listed with a way to take it away, and the
 * account's deletion. Every destructive action asks first and every result is announced.
 */
import { h } from "../dom.ts";
import type { View } from "../view.ts";
import { formatDate } from "./account/common.ts";
import { deletionPanel } from "./account/deletion.ts";
import { devicesPanel } from "./account/devices.ts";
import { passkeysPanel } from "./account/passkeys.ts";
import { recoveryPanel } from "./account/recovery.ts";
import { sessionsPanel } from "./account/sessions.ts";

const ROLES: Record<string, string> = {
  patient: "Patient",
  clinician: "Clinician",
  researcher: "Researcher",
  admin: "Administrator",
  auditor: "Auditor",
};

const account: View = {
  title: "Account",
  async render(ctx) {
    const { me } = ctx;
    const profile = h(
      "section",
      { class: "card account-panel", "aria-labelledby": "profile-title" },
      h("h2", { id: "profile-title" }, "Profile"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Display name"),
        h("dd", {}, me.displayName),
        h("dt", {}, "Username"),
        h("dd", {}, me.username),
        h("dt", {}, "Role"),
        h("dd", {}, ROLES[me.role] ?? me.role),
        h("dt", {}, "Member since"),
        h("dd", {}, formatDate(me.createdAt)),
      ),
    );
    const passkeys = passkeysPanel(ctx);
    const sessions = sessionsPanel(ctx);
    const devices = devicesPanel(ctx);
    await Promise.all([passkeys.refresh(), sessions.refresh(), devices.refresh()]);
    return h(
      "section",
      { class: "account" },
      h("h1", {}, "Account"),
      profile,
      passkeys.element,
      sessions.element,
      devices.element,
      recoveryPanel(ctx),
      deletionPanel(ctx),
    );
  },
};
export default account;
