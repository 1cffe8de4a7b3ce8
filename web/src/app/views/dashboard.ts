import { h } from "../dom.ts";
import type { View } from "../view.ts";

/** The signed-in start page. */
const dashboard: View = {
  title: "Dashboard",
  render(ctx) {
    return h("section", {}, h("h1", {}, "Dashboard"), h("p", {}, `Signed in as ${ctx.me.displayName} (@${ctx.me.username}).`));
  },
};
export default dashboard;
