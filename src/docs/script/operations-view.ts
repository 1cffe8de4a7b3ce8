/**
 * Browser code (plain ES2022, shipped as text inside /docs/app.js, after schema-view): operations
 * grouped by tag, an index with a filter, the named schemas, and the loading of /openapi.json.
 * Kept free of backticks and `${` because it lives in a template literal.
 */
export const OPERATIONS_VIEW_SCRIPT = String.raw`
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

const pathView = (path) =>
  h("code", "path", path.split(/(\{[^}]+\})/).filter(Boolean).map((part) => (part.startsWith("{") ? h("span", "path-param", part) : part)));

const describeScheme = (name) => {
  const scheme = deref((spec.components && spec.components.securitySchemes || {})[name]);
  if (scheme.type === "http") return name + " (HTTP " + (scheme.scheme || "") + (scheme.bearerFormat ? ", " + scheme.bearerFormat : "") + ")";
  if (scheme.type === "apiKey") return name + " (API key in " + scheme.in + " " + scheme.name + ")";
  return scheme.type ? name + " (" + scheme.type + ")" : name;
};
const securityView = (op) => {
  const requirements = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : [];
  const names = [...new Set(requirements.flatMap((r) => (isObj(r) ? Object.keys(r) : [])))];
  if (names.length === 0) return null;
  return h("p", "auth", h("span", "badge auth-badge", "auth"), " " + names.map(describeScheme).join(" or "));
};

const parametersView = (params) => {
  const rows = params.filter((p) => p.name).map((p) =>
    h("tr", null,
      h("td", null, h("code", "prop-name", p.name), p.required ? h("span", "badge required", "required") : null,
        p.deprecated ? h("span", "badge", "deprecated") : null),
      h("td", null, p.in),
      h("td", null, typeView(p.schema), facts(p.schema)),
      h("td", null, p.description ? prose(p.description) : "")));
  const head = h("tr", null, ["Name", "In", "Schema", "Description"].map((t) => h("th", null, t)));
  return h("div", "table-wrap", h("table", "params", h("thead", null, head), h("tbody", null, rows)));
};

const contentView = (content) =>
  isObj(content)
    ? Object.entries(content).map(([media, body]) => h("div", "media", h("div", "media-type", media), isObj(body) && body.schema ? schemaBlock(body.schema) : null))
    : null;

const statusOrder = (code) => (code === "default" ? 1000 : Number.parseInt(String(code).replace(/X/gi, "0"), 10) || 999);
const responsesView = (responses) =>
  Object.entries(isObj(responses) ? responses : {})
    .sort(([a], [b]) => statusOrder(a) - statusOrder(b))
    .map(([code, raw]) => {
      const response = deref(raw);
      const kind = code === "default" ? "sdefault" : "s" + String(code).charAt(0) + "xx";
      return h("div", "response", h("div", "response-head", h("span", "status " + kind, code), response.description || ""), contentView(response.content));
    });

// Path-level parameters apply unless the operation redefines the same name and location.
const mergedParameters = (pathItem, op) => {
  const byKey = new Map();
  for (const raw of [...(pathItem.parameters || []), ...(op.parameters || [])]) {
    const p = deref(raw);
    byKey.set(p.in + ":" + p.name, p);
  }
  return [...byKey.values()];
};

// Cards are articles named by their heading, so assistive technology lists them by "GET /path".
const labelled = (card, title, id) => {
  card.id = id;
  title.id = id + "-title";
  card.setAttribute("aria-labelledby", title.id);
  return card;
};

const operationView = (entry) => {
  const { method, path, op, pathItem, id } = entry;
  const params = mergedParameters(pathItem, op);
  const body = deref(op.requestBody);
  const title = h("h3", "op-head", h("span", "method m-" + method, method.toUpperCase()), " ", pathView(path),
    op.deprecated ? h("span", "badge", "deprecated") : null);
  const card = h("article", "op" + (op.deprecated ? " deprecated" : ""), title,
    op.summary ? h("p", "op-summary", op.summary) : null,
    op.description ? prose(op.description, "op-desc") : null,
    securityView(op),
    params.length > 0 ? [h("h4", null, "Parameters"), parametersView(params)] : null,
    body.content ? [h("h4", null, "Request body", body.required ? h("span", "badge required", "required") : null),
      body.description ? prose(body.description) : null, contentView(body.content)] : null,
    h("h4", null, "Responses"), responsesView(op.responses));
  return labelled(card, title, id);
};

const collectOperations = () => {
  const groups = new Map();
  for (const tag of Array.isArray(spec.tags) ? spec.tags : []) if (isObj(tag) && tag.name) groups.set(tag.name, { tag, entries: [] });
  const used = new Set();
  for (const [path, rawItem] of Object.entries(isObj(spec.paths) ? spec.paths : {})) {
    const pathItem = deref(rawItem);
    for (const method of METHODS) {
      const op = pathItem[method];
      if (!isObj(op)) continue;
      let id = "op-" + String(op.operationId || method + "-" + path).replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
      while (used.has(id)) id += "-";
      used.add(id);
      const tagName = Array.isArray(op.tags) && op.tags.length > 0 ? String(op.tags[0]) : "Other";
      if (!groups.has(tagName)) groups.set(tagName, { tag: { name: tagName }, entries: [] });
      groups.get(tagName).entries.push({ method, path, op, pathItem, id, tag: tagName });
    }
  }
  return [...groups.values()].filter((g) => g.entries.length > 0);
};

const indexView = (groups, schemaNames, onFilter) => {
  const filter = h("input", "filter");
  filter.type = "search";
  filter.placeholder = "Filter operations";
  filter.setAttribute("aria-label", "Filter operations");
  filter.addEventListener("input", () => onFilter(filter.value.trim().toLowerCase()));
  const lists = groups.map((g) => h("div", "nav-group", h("p", "nav-tag", g.tag.name),
    h("ul", null, g.entries.map((e) => {
      const link = h("a", null, h("span", "method small m-" + e.method, e.method.toUpperCase()), " ", h("span", "nav-path", e.path));
      link.href = "#" + e.id;
      if (e.op.summary) link.title = e.op.summary;
      e.navItem = h("li", null, link);
      return e.navItem;
    }))));
  const schemaLink = h("a", null, "Schemas (" + schemaNames.length + ")");
  schemaLink.href = "#schemas";
  return [filter, lists, schemaNames.length > 0 ? h("p", "nav-tag", schemaLink) : null];
};

const render = () => {
  const info = isObj(spec.info) ? spec.info : {};
  const groups = collectOperations();
  const schemas = isObj(spec.components) && isObj(spec.components.schemas) ? spec.components.schemas : {};
  const schemaNames = Object.keys(schemas).sort();
  const doc = h("a", null, "OpenAPI document");
  doc.href = "/openapi.json";
  const header = h("header", "intro", h("h1", null, info.title || "API", h("span", "version", info.version ? "v" + info.version : null)),
    info.description ? prose(info.description, "intro-desc") : null, h("p", "meta", "OpenAPI " + (spec.openapi || "?") + " \u00b7 ", doc));
  const sections = groups.map((g) => h("section", "tag-group", h("h2", null, g.tag.name),
    g.tag.description ? prose(g.tag.description, "tag-desc") : null, g.entries.map((e) => (e.card = operationView(e)))));
  const schemaCards = schemaNames.map((name) => {
    const title = h("h3", "op-head", h("code", "path", name));
    const ref = "#/components/schemas/" + name.replace(/~/g, "~0").replace(/\//g, "~1");
    return labelled(h("article", "op schema-card", title, schemaBlock(schemas[name], ref)), title, schemaAnchor(name));
  });
  const schemaSection = schemaNames.length > 0 ? h("section", "tag-group", h("h2", null, "Schemas"), schemaCards) : null;
  if (schemaSection) schemaSection.id = "schemas";

  const onFilter = (query) => {
    for (const g of groups) {
      let visible = 0;
      for (const e of g.entries) {
        const hay = (e.method + " " + e.path + " " + (e.op.summary || "") + " " + e.tag).toLowerCase();
        const show = query === "" || hay.includes(query);
        e.card.hidden = !show;
        e.navItem.hidden = !show;
        if (show) visible++;
      }
      g.entries[0].card.parentElement.hidden = visible === 0;
    }
  };
  document.getElementById("index").replaceChildren(...indexView(groups, schemaNames, onFilter).flat().filter(Boolean));
  const main = document.getElementById("content");
  main.replaceChildren(header, ...sections, ...(schemaSection ? [schemaSection] : []));
  if (groups.length === 0) main.append(h("p", "note", "This API describes no operations yet."));
  main.removeAttribute("aria-busy");
  document.title = (info.title || "API") + " reference";
  if (location.hash) {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.scrollIntoView();
  }
};

const fail = (error) => {
  const main = document.getElementById("content");
  const box = h("div", "error", "Could not load the API description: " + (error && error.message ? error.message : String(error)));
  box.setAttribute("role", "alert");
  main.replaceChildren(box);
  main.removeAttribute("aria-busy");
};

fetch("/openapi.json", { headers: { accept: "application/json" } })
  .then((res) => {
    if (!res.ok) throw new Error("GET /openapi.json answered " + res.status);
    return res.json();
  })
  .then((doc) => {
    if (!isObj(doc)) throw new Error("the document is not a JSON object");
    spec = doc;
    render();
  })
  .catch(fail);
`;
