/** /docs/style.css: system fonts only (the CSP has no font-src), light and dark schemes. */
export const DOCS_STYLE = `:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1c2330; --muted: #5d6775; --border: #dde2ea;
  --accent: #2459c7; --code-bg: #eef1f5; --param: #a4479b;
  --get: #167a4a; --post: #2459c7; --put: #9a5a00; --patch: #7a4bc0; --delete: #bf3327; --other: #56606d;
  --ok: #167a4a; --redirect: #56606d; --client: #9a5a00; --server: #bf3327; --on-method: #ffffff;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --panel: #1b1f26; --text: #e3e7ee; --muted: #9aa4b2; --border: #2d333d;
    --accent: #7aa7ff; --code-bg: #252b34; --param: #e08ad6;
    --get: #3fb57a; --post: #5b8def; --put: #d69a3a; --patch: #a783e6; --delete: #e5695e; --other: #8a94a3;
    --ok: #3fb57a; --redirect: #8a94a3; --client: #d69a3a; --server: #e5695e; --on-method: #10141a;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .type, .media-type, .status, .method { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { font-size: 0.9em; }
p code, .prose code { background: var(--code-bg); padding: 0.05em 0.35em; border-radius: 4px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--panel); padding: 0.5rem; z-index: 2; }
.layout { display: grid; grid-template-columns: 290px minmax(0, 1fr); min-height: 100vh; }
.index { position: sticky; top: 0; height: 100vh; overflow-y: auto; padding: 1.25rem 1rem;
  background: var(--panel); border-right: 1px solid var(--border); }
.index ul { list-style: none; margin: 0 0 1rem; padding: 0; }
.index li a { display: flex; gap: 0.5rem; align-items: center; padding: 0.2rem 0.4rem; border-radius: 6px; color: var(--text); }
.index li a:hover { background: var(--code-bg); text-decoration: none; }
.nav-tag { margin: 0.75rem 0 0.25rem; font-size: 0.75rem; font-weight: 700; text-transform: uppercase;
  letter-spacing: 0.06em; color: var(--muted); }
.nav-path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.82rem; overflow-wrap: anywhere; }
.filter { width: 100%; padding: 0.45rem 0.6rem; border: 1px solid var(--border); border-radius: 6px;
  background: var(--bg); color: var(--text); font: inherit; }
.content { padding: 2rem clamp(1rem, 4vw, 3rem) 4rem; max-width: 980px; }
.loading, .note { color: var(--muted); }
.error { padding: 1rem; border: 1px solid var(--server); border-radius: 8px; color: var(--server); }
.intro h1 { margin: 0 0 0.25rem; font-size: 2rem; display: flex; gap: 0.75rem; align-items: baseline; }
.version { font-size: 0.9rem; font-weight: 500; color: var(--muted); }
.intro-desc { color: var(--muted); max-width: 70ch; }
.meta { font-size: 0.85rem; color: var(--muted); }
.tag-group { margin-top: 2.5rem; }
.tag-group > h2 { font-size: 1.4rem; margin: 0 0 0.5rem; padding-bottom: 0.35rem; border-bottom: 1px solid var(--border); }
.tag-desc { color: var(--muted); }
.op { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 1rem 1.25rem;
  margin: 1rem 0; scroll-margin-top: 1rem; }
.op.deprecated { opacity: 0.75; }
.op-head { display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: center; margin: 0; font-size: 1.05rem; }
.op-summary { margin: 0.4rem 0 0; font-weight: 600; }
.op h4 { margin: 1.1rem 0 0.4rem; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted);
  display: flex; gap: 0.5rem; align-items: center; }
.method { display: inline-block; min-width: 4.2em; padding: 0.15em 0.5em; border-radius: 5px; color: var(--on-method);
  font-size: 0.8rem; font-weight: 700; text-align: center; background: var(--other); }
.method.small { min-width: 3.6em; font-size: 0.66rem; padding: 0.1em 0.3em; }
.m-get { background: var(--get); } .m-post { background: var(--post); } .m-put { background: var(--put); }
.m-patch { background: var(--patch); } .m-delete { background: var(--delete); }
.path { font-size: 1rem; overflow-wrap: anywhere; }
.path-param { color: var(--param); }
.badge { font-size: 0.7rem; padding: 0.05em 0.45em; border-radius: 999px; border: 1px solid var(--border); color: var(--muted);
  text-transform: none; letter-spacing: 0; font-weight: 500; }
.badge.required { color: var(--server); border-color: currentColor; }
.auth { margin: 0.5rem 0 0; font-size: 0.9rem; color: var(--muted); }
.type { color: var(--accent); font-size: 0.85rem; }
.fact { font-size: 0.78rem; color: var(--muted); background: var(--code-bg); padding: 0 0.4em; border-radius: 4px; }
.table-wrap { overflow-x: auto; }
.params { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.params th, .params td { text-align: left; vertical-align: top; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--border); }
.params th { font-size: 0.75rem; color: var(--muted); font-weight: 600; }
.params td p { margin: 0; }
.params td > * + * { margin-left: 0.4rem; }
.response { border-top: 1px solid var(--border); padding: 0.55rem 0; }
.response:first-of-type { border-top: 0; }
.response-head { display: flex; gap: 0.75rem; align-items: baseline; }
.status { font-weight: 700; min-width: 3.2em; }
.s2xx { color: var(--ok); } .s3xx { color: var(--redirect); } .s4xx { color: var(--client); } .s5xx, .sdefault { color: var(--server); }
.media { margin: 0.4rem 0 0 0.25rem; }
.media-type { font-size: 0.78rem; color: var(--muted); }
.schema { margin-top: 0.2rem; }
.schema-head, .prop-head { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: baseline; }
.schema-desc, .prop-desc { color: var(--muted); font-size: 0.88rem; }
.schema-desc p, .prop-desc p { margin: 0.1rem 0; }
.props { list-style: none; margin: 0.3rem 0 0; padding: 0 0 0 0.9rem; border-left: 2px solid var(--border); }
.prop { padding: 0.25rem 0; }
.prop-name { font-weight: 600; }
.props .note { font-size: 0.85rem; margin: 0.2rem 0; }
.variants { margin: 0.2rem 0; padding-left: 1.4rem; }
.schema-card .op-head code { font-weight: 600; }
@media (max-width: 820px) {
  .layout { grid-template-columns: 1fr; }
  .index { position: static; height: auto; border-right: 0; border-bottom: 1px solid var(--border); }
}
`;
