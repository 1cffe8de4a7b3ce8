/**
 * /oauth/style.css: the look of the server-rendered connection pages (./pages.ts), which carry no
 * script and a CSP allowing styles from this origin only. System fonts only (the CSP has no
 * font-src), light and dark schemes with the web app's colours, readable down to a phone's width.
 */
export const PAGE_STYLE = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1c2330; --muted: #505a68; --border: #d3d9e2;
  --accent: #1f4fb5; --on-accent: #ffffff;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --panel: #1b1f26; --text: #e3e7ee; --muted: #a7b0bd; --border: #353c47; --accent: #8db4ff; --on-accent: #10141a; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
.page { max-width: 760px; margin: 0 auto; padding: 2.5rem 1.25rem 3rem; }
.brand h1 { margin: 0 0 1.5rem; font-size: 2rem; letter-spacing: -0.02em; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; padding: 1.25rem 1.4rem; }
.card h2 { margin: 0 0 0.9rem; font-size: 1.2rem; }
.hint { color: var(--muted); font-size: 0.88rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0 0 0.5rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; padding-top: 1.1rem; }
button { padding: 0.6rem 1rem; border: 1px solid var(--accent); border-radius: 8px; background: var(--accent);
  color: var(--on-accent); font: inherit; font-weight: 600; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
@media (max-width: 480px) { .page { padding: 1.25rem 0.9rem 2rem; } }
`;
