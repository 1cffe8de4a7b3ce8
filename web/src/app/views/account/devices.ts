/**
 * Device credentials (/v1/me/devices): the upload-only, DPoP-bound credentials background
 * uploaders hold. Apps create them with their own key pair, so the page lists and revokes only.
 */
import { formatDateTime, h } from "../../dom.ts";
import type { ViewContext } from "../../view.ts";
import { card, change, focusHeading, formatDate, type Panel, readAll, table } from "./common.ts";

interface Device {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
}

export function devicesPanel(ctx: ViewContext): Panel {
  const { element, body } = card(
    "devices",
    "Device credentials",
    "Apps that upload in the background (the Android uploader) hold a credential that can only upload. Revoke one you no longer use.",
  );

  const revoke = (device: Device) =>
    void change(
      ctx,
      {
        confirm: `Revoke the device credential "${device.name}"? That device will stop uploading until it is set up again.`,
        busy: "Revoking the device credential…",
        done: `Device credential ${device.name} revoked.`,
      },
      async () => {
        await ctx.api.request("DELETE", `/v1/me/devices/${device.id}`, { signal: ctx.signal });
        await refresh();
        focusHeading(element);
      },
    );

  const refresh = async () => {
    const devices = await readAll<Device>(ctx, "/v1/me/devices");
    if (devices.length === 0) {
      body.replaceChildren(h("p", {}, "No device credentials. An uploader app creates one when you set it up."));
      return;
    }
    const rows = devices.map((device) => {
      const button = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${device.name}` }, "Revoke");
      button.addEventListener("click", () => revoke(device));
      return h(
        "tr",
        { "data-device": device.id },
        h("th", { scope: "row" }, device.name),
        h("td", {}, device.scopes.join(", ")),
        h("td", {}, device.lastUsedAt === null ? "never" : formatDateTime(device.lastUsedAt)),
        h("td", {}, formatDate(device.expiresAt)),
        h("td", { class: "row-actions" }, button),
      );
    });
    body.replaceChildren(table("Your device credentials", ["Name", "Allowed", "Last used", "Expires", "Actions"], rows));
  };

  return { element, refresh };
}
