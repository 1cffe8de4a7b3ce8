/**
 * The page frame: signed out, the welcome page (sign up, sign in); signed in, a header with the
 * navigation and the current view, chosen by the address's hash (`#/dashboard`), so the back
 * button, reloads of a bookmarked view and links work without a server route per page.
 */
import { type ApiClient, ProblemError } from "./api.ts";
import { explain, signOut } from "./auth.ts";
import { h } from "./dom.ts";
import { parseHash, ROUTES } from "./routes.ts";
import type { Me, ViewContext } from "./view.ts";
import { renderWelcome } from "./views/welcome.ts";

export function startApp(root: HTMLElement, api: ApiClient): void {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const main = h("main", { id: "main", tabindex: "-1" });
  const nav = h("nav", { "aria-label": "Pulse" });
  const header = h("header", { class: "app-header" }, h("a", { class: "brand", href: "#/dashboard" }, "Pulse"), nav);
  root.replaceChildren(header, h("div", { class: "messages" }, status, problem), main);

  let me: Me | null = null;
  let leave = new AbortController();
  let busy = 0;

  const setProblem = (text: string) => {
    problem.textContent = text;
    problem.hidden = text === "";
  };

  const run = async (label: string, task: () => Promise<void>): Promise<boolean> => {
    setProblem("");
    busy += 1;
    status.textContent = label;
    main.setAttribute("aria-busy", "true");
    try {
      await task();
      return true;
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return false;
      setProblem(explain(error));
      return false;
    } finally {
      busy -= 1;
      if (busy === 0) {
        status.textContent = "";
        main.setAttribute("aria-busy", "false");
      }
    }
  };

  const announce = (text: string) => {
    status.textContent = text;
  };

  const showSignedOut = () => {
    me = null;
    leave.abort();
    leave = new AbortController();
    nav.replaceChildren();
    document.title = "Pulse — sign in";
    main.replaceChildren(renderWelcome({ api, run, announce, onSignedIn: () => void signedIn() }));
  };

  const signedIn = async () => {
    try {
      me = await api.request<Me>("GET", "/v1/me");
    } catch (error) {
      api.clear();
      setProblem(explain(error));
      return;
    }
    renderNav();
    await show();
  };

  const renderNav = () => {
    const signOutButton = h("button", { type: "button", class: "secondary" }, "Sign out");
    signOutButton.addEventListener("click", () => {
      // Leave the view first: a read it starts later (the dashboard's summary follows its charts)
      // would otherwise reach the server after the session ended and answer 401.
      leave.abort();
      void run("Signing out…", () => signOut(api));
    });
    nav.replaceChildren(
      h(
        "ul",
        {},
        ...ROUTES.map((route) => h("li", {}, h("a", { href: `#/${route.path}`, "data-route": route.path }, route.label))),
      ),
      h("span", { class: "who" }, me?.displayName ?? ""),
      signOutButton,
    );
  };

  const show = async () => {
    if (me === null) return;
    leave.abort();
    leave = new AbortController();
    const { path, query } = parseHash(location.hash);
    const route = ROUTES.find((candidate) => candidate.path === path);
    for (const link of nav.querySelectorAll("a[data-route]")) {
      if (link.getAttribute("data-route") === route?.path) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (route === undefined) {
      main.replaceChildren(
        h("h1", { tabindex: "-1" }, "Not found"),
        h("p", {}, "There is no such page. ", h("a", { href: "#/dashboard" }, "Go to the dashboard.")),
      );
      return;
    }
    const ctx: ViewContext = {
      api,
      me,
      signal: leave.signal,
      run,
      announce,
      navigate: (target) => {
        location.hash = `#/${target}`;
      },
      query,
    };
    setProblem("");
    const module = await route.load();
    const view = module.default;
    document.title = `${view.title} — Pulse`;
    let content: HTMLElement;
    try {
      content = await view.render(ctx);
    } catch (error) {
      // Left before it rendered (its requests were aborted): the next view is already on its way.
      if (ctx.signal.aborted) return;
      if (error instanceof ProblemError && error.status === 401) return;
      content = h("section", {}, h("h1", {}, view.title));
      setProblem(explain(error));
    }
    if (ctx.signal.aborted) return;
    main.replaceChildren(content);
    // Move focus to the new page's heading, so keyboard and screen-reader users start there.
    const heading = main.querySelector<HTMLElement>("h1");
    if (heading !== null) {
      heading.tabIndex = -1;
      heading.focus();
    }
  };

  api.onSignedOut(showSignedOut);
  window.addEventListener("hashchange", () => void show());
  showSignedOut();
}
