/**
 * Browser code (plain ES2022, shipped as text inside /docs/app.js): DOM helpers and the rendering
 * of JSON Schema 2020-12 as OpenAPI 3.1 uses it. Everything from the spec reaches the page as text
 * nodes (`append(string)` / `textContent`), never as markup, so a hostile description cannot inject.
 * Kept free of backticks and `${` because it lives in a template literal.
 */
export const SCHEMA_VIEW_SCRIPT = String.raw`
const h = (tag, className, ...children) => {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "object" ? child : String(child));
  }
  return el;
};
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const BACKTICK = "\u0060";

// Descriptions are CommonMark; paragraphs and code spans cover what Pulse writes.
const prose = (text, className) => {
  const box = h("div", className || "prose");
  for (const para of String(text).split(/\n\s*\n/)) {
    const p = h("p");
    para.split(BACKTICK).forEach((part, i) => p.append(i % 2 ? h("code", null, part) : part));
    box.append(p);
  }
  return box;
};

let spec = {};

// RFC 6901 JSON pointer, local references only; own properties only.
const resolvePointer = (ref) => {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return undefined;
  let node = spec;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObj(node) || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
};
const deref = (node) => {
  for (let hops = 0; isObj(node) && typeof node.$ref === "string" && hops < 16; hops++) node = resolvePointer(node.$ref);
  return isObj(node) ? node : {};
};
const refName = (ref) => decodeURIComponent(String(ref).split("/").pop() || ref);
const schemaAnchor = (name) => "schema-" + String(name).replace(/[^A-Za-z0-9_-]+/g, "-");
const isSchemaRef = (ref) => typeof ref === "string" && ref.startsWith("#/components/schemas/");
const variantsOf = (s) => (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : null);
const isNullSchema = (s) => isObj(s) && s.type === "null";
const short = (value) => {
  const text = JSON.stringify(value);
  return text && text.length > 80 ? text.slice(0, 77) + "..." : String(text);
};

const typeLabel = (s, depth = 0) => {
  if (!isObj(s)) return s === false ? "never" : "any";
  if (depth > 6) return "...";
  if (typeof s.$ref === "string") return refName(s.$ref);
  if ("const" in s) return short(s.const);
  if (Array.isArray(s.enum)) return s.enum.length <= 8 ? s.enum.map(short).join(" | ") : (s.type || "enum") + " (enum)";
  const alts = variantsOf(s);
  if (alts) return alts.map((v) => typeLabel(v, depth + 1)).join(" | ");
  if (Array.isArray(s.allOf)) return s.allOf.map((v) => typeLabel(v, depth + 1)).join(" & ");
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  let label = types.length ? types.map((t) => baseLabel(s, t, depth)).join(" | ") : s.properties ? "object" : "any";
  if (s.nullable === true) label += " | null";
  return label;
};
const baseLabel = (s, t, depth) => {
  if (t === "array") return s.items ? "array<" + typeLabel(s.items, depth + 1) + ">" : "array";
  if (t === "object" && !s.properties && isObj(s.additionalProperties))
    return "map<string, " + typeLabel(s.additionalProperties, depth + 1) + ">";
  if (s.format && t !== "object") return t + " (" + s.format + ")";
  return t;
};

// References to named schemas become links to their entry in the Schemas section.
const typeView = (s) => {
  if (isObj(s) && isSchemaRef(s.$ref)) {
    const link = h("a", "type type-ref", refName(s.$ref));
    link.href = "#" + schemaAnchor(refName(s.$ref));
    return link;
  }
  if (isObj(s) && s.type === "array" && isObj(s.items) && isSchemaRef(s.items.$ref))
    return h("span", "type", "array<", typeView(s.items), ">");
  return h("span", "type", typeLabel(s));
};

const FACTS = [
  ["minimum", ">= "], ["exclusiveMinimum", "> "], ["maximum", "<= "], ["exclusiveMaximum", "< "],
  ["minLength", "min length "], ["maxLength", "max length "], ["minItems", "min items "], ["maxItems", "max items "],
  ["multipleOf", "multiple of "], ["pattern", "pattern "],
];
const facts = (s) => {
  if (!isObj(s)) return [];
  const out = [];
  for (const [key, prefix] of FACTS) if (typeof s[key] === "number" || typeof s[key] === "string") out.push(prefix + s[key]);
  if (Array.isArray(s.enum) && s.enum.length > 8) out.push("one of " + s.enum.map(short).join(", "));
  if (s.default !== undefined) out.push("default " + short(s.default));
  if (s.example !== undefined) out.push("example " + short(s.example));
  else if (Array.isArray(s.examples) && s.examples.length > 0) out.push("example " + short(s.examples[0]));
  if (s.readOnly) out.push("read-only");
  if (s.writeOnly) out.push("write-only");
  if (s.deprecated) out.push("deprecated");
  return out.map((text) => h("span", "fact", text));
};

const MAX_DEPTH = 8;

// The inner structure of a schema (properties, items, variants), or null for a plain value.
const structure = (s, seen, depth) => {
  if (!isObj(s) || depth > MAX_DEPTH) return null;
  if (typeof s.$ref === "string") {
    if (seen.includes(s.$ref)) return h("p", "note", "Recursive: " + refName(s.$ref) + " (see above).");
    const target = resolvePointer(s.$ref);
    if (!isObj(target)) return h("p", "note", "Unresolved reference " + s.$ref);
    return structure(target, seen.concat(s.$ref), depth);
  }
  const alts = variantsOf(s);
  if (alts) {
    const real = alts.filter((v) => !isNullSchema(v));
    if (real.length === 1) return structure(real[0], seen, depth);
    const parts = real.map((v) => [v, structure(v, seen, depth + 1)]);
    if (parts.every(([, el]) => el === null)) return null;
    const list = h("ol", "variants", parts.map(([v, el]) => h("li", null, typeView(v), el)));
    return h("div", null, h("p", "note", s.oneOf ? "Exactly one of:" : "Any of:"), list);
  }
  if (Array.isArray(s.allOf)) {
    const parts = s.allOf.map((v) => structure(v, seen, depth + 1)).filter(Boolean);
    return parts.length > 0 ? h("div", "all-of", parts) : null;
  }
  if (isObj(s.properties)) return propertyList(s, seen, depth);
  if (isObj(s.items)) return structure(s.items, seen, depth + 1);
  if (isObj(s.additionalProperties)) return structure(s.additionalProperties, seen, depth + 1);
  return null;
};

const propertyList = (s, seen, depth) => {
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  const list = h("ul", "props");
  for (const [name, prop] of Object.entries(s.properties)) {
    const head = h("div", "prop-head", h("code", "prop-name", name), typeView(prop),
      required.has(name) ? h("span", "badge required", "required") : null, facts(prop));
    const description = isObj(prop) && prop.description ? prose(prop.description, "prop-desc") : null;
    list.append(h("li", "prop", head, description, structure(prop, seen, depth + 1)));
  }
  if (s.additionalProperties === false) list.append(h("li", "note", "No other properties."));
  return list;
};

// selfRef: the reference naming this schema, when it is shown as a named component.
const schemaBlock = (schema, selfRef) => {
  const s = isObj(schema) ? schema : {};
  const target = deref(s);
  return h("div", "schema", h("div", "schema-head", typeView(s), facts(target)),
    target.description ? prose(target.description, "schema-desc") : null, structure(s, selfRef ? [selfRef] : [], 0));
};
`;
