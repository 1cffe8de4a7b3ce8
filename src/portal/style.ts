/** /portal/style.css: system fonts only (the CSP has no font-src), light and dark schemes. */
export const PORTAL_STYLE = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1c2330; --muted: #5d6775; --border: #dde2ea;
  --accent: #2459c7; --on-accent: #ffffff; --code-bg: #eef1f5; --danger: #bf3327; --ok: #167a4a;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --panel: #1b1f26; --text: #e3e7ee; --muted: #9aa4b2; --border: #2d333d;
    --accent: #7aa7ff; --on-accent: #10141a; --code-bg: #252b34; --danger: #e5695e; --ok: #3fb57a;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
.portal { max-width: 760px; margin: 0 auto; padding: 2.5rem 1.25rem 3rem; }
.brand h1 { margin: 0; font-size: 2rem; letter-spacing: -0.02em; }
.brand p { margin: 0.2rem 0 1.5rem; color: var(--muted); }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; padding: 1.25rem 1.4rem; }
.card h2 { margin: 0 0 0.9rem; font-size: 1.2rem; }
form.card { display: flex; flex-direction: column; }
/* Both forms end with their button on one line, whatever the fields above it. */
.actions { margin-top: auto; padding-top: 1.1rem; }
.actions button { width: 100%; margin-top: 0; }
label { font-weight: 600; font-size: 0.9rem; margin-top: 0.6rem; }
.optional, .hint, .note { color: var(--muted); font-weight: 400; }
.hint { font-size: 0.85rem; margin: 0.35rem 0 0; }
input, textarea { margin-top: 0.3rem; padding: 0.55rem 0.7rem; border: 1px solid var(--border); border-radius: 8px;
  background: var(--bg); color: var(--text); font: inherit; }
textarea { resize: vertical; }
input:focus-visible, textarea:focus-visible, button:focus-visible, h2:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button { margin-top: 1.1rem; padding: 0.6rem 1rem; border: 1px solid var(--accent); border-radius: 8px;
  background: var(--accent); color: var(--on-accent); font: inherit; font-weight: 600; cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button:disabled { opacity: 0.55; cursor: progress; }
.status { min-height: 1.5em; margin: 0 0 0.75rem; color: var(--muted); }
.problem { margin: 0 0 1rem; padding: 0.75rem 1rem; border: 1px solid var(--danger); border-radius: 8px; color: var(--danger); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0 0 0.5rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
.recovery { margin-top: 1.25rem; padding: 1rem 1.2rem; border: 1px dashed var(--ok); border-radius: 10px; }
.recovery h3 { margin: 0 0 0.4rem; font-size: 1.05rem; }
.recovery p { margin: 0 0 0.6rem; color: var(--muted); }
.codes { columns: 2; column-gap: 2.5rem; margin: 0; padding-left: 2.2rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.codes li { padding: 0.1rem 0; }
.ask { display: flex; flex-direction: column; margin-top: 1.5rem; padding-top: 1.25rem; border-top: 1px solid var(--border); }
.ask h3 { margin: 0; font-size: 1.05rem; }
.answer { margin-top: 1rem; padding: 0.9rem 1.1rem; border-radius: 10px; background: var(--code-bg); }
.answer h4 { margin: 0 0 0.3rem; font-size: 0.95rem; }
.answer p { margin: 0; }
.answer .hint { margin-top: 0.5rem; }
.note { margin-top: 2rem; font-size: 0.88rem; }
@media (max-width: 480px) { .codes { columns: 1; } }
`;
