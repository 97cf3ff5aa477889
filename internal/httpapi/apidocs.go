package httpapi

import (
	"io"
	"net/http"
)

// The API reference at /api/docs: a small page that reads the embedded
// OpenAPI document from /openapi.json and lays it out by path, with each
// operation's parameters, body and answers. It is written here, without a
// viewer library and without any resource from another host, so that it
// works on a server with no way out and changes only with Gatehouse itself.
// Its script and style sheet are served from the same route
// (?asset=app.js, ?asset=style.css), so the Content-Security-Policy can
// allow this origin alone, with no inline script or style.

// apiDocsCSP allows the page its own script, style sheet and document, and
// nothing else: no other host, no inline code, no frames, no forms.
const apiDocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func serveAPIDocs(w http.ResponseWriter, r *http.Request) {
	var body, contentType string
	switch r.URL.Query().Get("asset") {
	case "":
		body, contentType = apiDocsHTML, "text/html; charset=utf-8"
	case "app.js":
		body, contentType = apiDocsJS, "text/javascript; charset=utf-8"
	case "style.css":
		body, contentType = apiDocsCSS, "text/css; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", apiDocsCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// The page and the document change together, with the binary.
	h.Set("Cache-Control", "no-cache")
	_, _ = io.WriteString(w, body)
}

const apiDocsHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse API reference</title>
<link rel="stylesheet" href="/api/docs?asset=style.css">
<script src="/api/docs?asset=app.js" defer></script>
</head>
<body>
<header>
<h1 id="title">Gatehouse API reference</h1>
<p id="description"></p>
<p id="auth"></p>
<p class="meta">Rendered from <a href="/openapi.json">/openapi.json</a>, the document this server serves.</p>
<input id="filter" type="search" placeholder="Filter by path, method or summary" aria-label="Filter the operations" autocomplete="off">
</header>
<div class="layout">
<nav id="index" aria-label="Paths"></nav>
<main id="operations"><p id="status">Reading /openapi.json…</p></main>
</div>
<noscript><p>This page lays out the document with a script; without one, read <a href="/openapi.json">/openapi.json</a> itself.</p></noscript>
</body>
</html>
`

// apiDocsJS builds the page with DOM calls and textContent only: nothing of
// the document is ever parsed as HTML.
const apiDocsJS = `"use strict";
(function () {
  var doc = null;
  var methods = ["get", "put", "post", "patch", "delete", "head", "options"];

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      if (arguments[i]) { parent.appendChild(arguments[i]); }
    }
    return parent;
  }
  function resolve(ref) {
    if (typeof ref !== "string" || ref.indexOf("#/") !== 0) { return null; }
    var node = doc;
    var parts = ref.slice(2).split("/");
    for (var i = 0; i < parts.length && node; i++) {
      node = node[parts[i].replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    return node || null;
  }
  function refName(ref) { return ref.split("/").pop(); }
  function deref(o) {
    var seen = 0;
    while (o && o.$ref && seen++ < 20) { o = resolve(o.$ref); }
    return o || {};
  }
  function anchor(method, path) { return (method + path).replace(/[^A-Za-z0-9]+/g, "-"); }

  // typeText is a schema's type in a few words: "string (email)",
  // "array of Role", "integer | null".
  function typeText(s) {
    if (!s) { return ""; }
    if (s.$ref) { return refName(s.$ref); }
    var t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type || "");
    if (t === "array" || (Array.isArray(s.type) && s.type.indexOf("array") >= 0)) {
      t = t.replace("array", "array of " + typeText(s.items || {}));
    }
    if (s.format) { t += " (" + s.format + ")"; }
    if (!t && s.allOf) { t = s.allOf.map(typeText).join(" & "); }
    if (!t && (s.oneOf || s.anyOf)) { t = (s.oneOf || s.anyOf).map(typeText).join(" | "); }
    return t || "any";
  }

  // facts lists what constrains a value besides its type.
  function facts(s) {
    var out = [];
    if (s.enum) { out.push("one of: " + s.enum.map(function (v) { return JSON.stringify(v); }).join(", ")); }
    if (s.default !== undefined) { out.push("default " + JSON.stringify(s.default)); }
    if (s.minimum !== undefined) { out.push("at least " + s.minimum); }
    if (s.maximum !== undefined) { out.push("at most " + s.maximum); }
    if (s.minLength !== undefined) { out.push("at least " + s.minLength + " characters"); }
    if (s.maxLength !== undefined) { out.push("at most " + s.maxLength + " characters"); }
    if (s.minItems !== undefined) { out.push("at least " + s.minItems + " items"); }
    if (s.maxItems !== undefined) { out.push("at most " + s.maxItems + " items"); }
    if (s.pattern) { out.push("matches " + s.pattern); }
    if (s.examples) { out.push("e.g. " + s.examples.map(function (v) { return JSON.stringify(v); }).join(", ")); }
    if (s.example !== undefined) { out.push("e.g. " + JSON.stringify(s.example)); }
    return out;
  }

  // schemaView shows a schema: its type, what constrains it, and for an
  // object its properties, nested; seen stops at a schema already open
  // above, so that a recursive one cannot loop.
  function schemaView(schema, seen) {
    var box = el("div", "schema");
    if (!schema) { return box; }
    seen = seen || [];
    if (schema.$ref) {
      var name = refName(schema.$ref);
      var target = resolve(schema.$ref);
      var head = el("div", "schema-name", name);
      add(box, head);
      if (!target || seen.indexOf(schema.$ref) >= 0) {
        head.textContent = name + " (see above)";
        return box;
      }
      add(box, schemaView(target, seen.concat([schema.$ref])));
      return box;
    }
    if (schema.allOf) {
      schema.allOf.forEach(function (part) { add(box, schemaView(part, seen)); });
    }
    ["oneOf", "anyOf"].forEach(function (k) {
      if (!schema[k]) { return; }
      add(box, el("div", "schema-note", k === "oneOf" ? "exactly one of:" : "any of:"));
      schema[k].forEach(function (part) { add(box, schemaView(part, seen)); });
    });
    if (schema.description) { add(box, el("p", "description", schema.description)); }
    if (schema.properties) {
      var required = schema.required || [];
      var table = el("table", "properties");
      var thead = add(el("tr"), el("th", "", "field"), el("th", "", "type"), el("th", "", "about"));
      add(table, thead);
      Object.keys(schema.properties).forEach(function (name) {
        var p = schema.properties[name];
        var row = el("tr");
        var nameCell = el("td", "field");
        add(nameCell, el("code", "", name));
        if (required.indexOf(name) >= 0) { add(nameCell, el("span", "required", "required")); }
        var about = el("td");
        var target = p.$ref ? deref(p) : p;
        if (p.description) { add(about, el("p", "", p.description)); }
        else if (target.description && p.$ref) { add(about, el("p", "", target.description)); }
        facts(p).forEach(function (f) { add(about, el("p", "fact", f)); });
        var nested = null;
        if (p.$ref || p.properties || p.allOf) { nested = p; }
        else if (p.items && (p.items.$ref || p.items.properties)) { nested = p.items; }
        if (nested) {
          var more = el("details");
          add(more, el("summary", "", "fields of " + typeText(nested)));
          add(more, schemaView(nested, seen));
          add(about, more);
        }
        add(row, nameCell, el("td", "type", typeText(p)), about);
        add(table, row);
      });
      add(box, table);
    } else if (!schema.allOf && !schema.oneOf && !schema.anyOf) {
      add(box, el("div", "type", typeText(schema)));
      facts(schema).forEach(function (f) { add(box, el("p", "fact", f)); });
      if (schema.items && (schema.items.$ref || schema.items.properties)) {
        add(box, schemaView(schema.items, seen));
      }
    }
    return box;
  }

  function contentView(content) {
    var box = el("div", "content");
    Object.keys(content || {}).forEach(function (type) {
      add(box, el("div", "media-type", type));
      if (content[type].schema) { add(box, schemaView(content[type].schema)); }
    });
    return box;
  }

  function parametersView(params) {
    var table = el("table", "parameters");
    add(table, add(el("tr"), el("th", "", "name"), el("th", "", "in"), el("th", "", "type"), el("th", "", "about")));
    params.forEach(function (raw) {
      var p = deref(raw);
      var name = add(el("td", "field"), el("code", "", p.name));
      if (p.required) { add(name, el("span", "required", "required")); }
      var about = el("td");
      if (p.description) { add(about, el("p", "", p.description)); }
      facts(p.schema || {}).forEach(function (f) { add(about, el("p", "fact", f)); });
      add(table, add(el("tr"), name, el("td", "", p.in), el("td", "type", typeText(p.schema)), about));
    });
    return table;
  }

  function operationView(path, method, op, pathParams) {
    var box = el("details", "operation method-" + method);
    box.id = anchor(method, path);
    var summary = el("summary");
    add(summary, el("span", "method", method.toUpperCase()), el("code", "op-path", path), el("span", "summary", op.summary || ""));
    add(box, summary);
    var body = el("div", "operation-body");
    if (op.description) { add(body, el("p", "description", op.description)); }
    var security = op.security || doc.security || [];
    add(body, el("p", "auth", security.length === 0 ? "No token needed." : "Needs a bearer token (Authorization: Bearer …)."));
    var params = (pathParams || []).concat(op.parameters || []);
    if (params.length) {
      add(body, el("h4", "", "Parameters"), parametersView(params));
    }
    if (op.requestBody) {
      var rb = deref(op.requestBody);
      add(body, el("h4", "", "Request body" + (rb.required ? " (required)" : "")));
      if (rb.description) { add(body, el("p", "description", rb.description)); }
      add(body, contentView(rb.content));
    }
    if (op.responses) {
      add(body, el("h4", "", "Responses"));
      var list = el("dl", "responses");
      Object.keys(op.responses).sort().forEach(function (status) {
        var raw = op.responses[status];
        var r = deref(raw);
        var dt = el("dt", "status status-" + status.charAt(0), status);
        var dd = el("dd");
        add(dd, el("p", "", (r.description || "") + (raw.$ref ? " (" + refName(raw.$ref) + ")" : "")));
        if (r.content && !raw.$ref) { add(dd, contentView(r.content)); }
        add(list, dt, dd);
      });
      add(body, list);
    }
    add(box, body);
    box.dataset.search = (method + " " + path + " " + (op.summary || "") + " " + (op.description || "")).toLowerCase();
    return box;
  }

  function render(d) {
    doc = d;
    var info = d.info || {};
    document.getElementById("title").textContent = (info.title || "API") + " API reference" + (info.version ? " (version " + info.version + ")" : "");
    document.title = document.getElementById("title").textContent;
    document.getElementById("description").textContent = info.description || "";
    var schemes = (d.components && d.components.securitySchemes) || {};
    document.getElementById("auth").textContent = Object.keys(schemes).map(function (k) {
      var s = schemes[k];
      return "Authentication (" + k + "): " + (s.scheme ? s.scheme + " token" : s.type) + (s.description ? ": " + s.description : "");
    }).join(" ");
    var main = document.getElementById("operations");
    var nav = document.getElementById("index");
    main.textContent = "";
    var groups = [];
    Object.keys(d.paths || {}).forEach(function (path) {
      var item = d.paths[path];
      var section = el("section", "path-group");
      add(section, add(el("h2"), el("code", "", path)));
      var navItem = el("li");
      var link = el("a", "", path);
      link.href = "#" + anchor("path", path);
      section.id = anchor("path", path);
      add(navItem, link);
      methods.forEach(function (m) {
        if (!item[m]) { return; }
        add(section, operationView(path, m, item[m], item.parameters));
        add(navItem, el("span", "nav-method method-" + m, m.toUpperCase()));
      });
      add(main, section);
      groups.push({ section: section, nav: navItem });
    });
    var ul = el("ul");
    groups.forEach(function (g) { add(ul, g.nav); });
    nav.textContent = "";
    add(nav, ul);
    var filter = document.getElementById("filter");
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      groups.forEach(function (g) {
        var any = false;
        g.section.querySelectorAll("details.operation").forEach(function (op) {
          var show = !q || op.dataset.search.indexOf(q) >= 0;
          op.hidden = !show;
          any = any || show;
        });
        g.section.hidden = !any;
        g.nav.hidden = !any;
      });
    });
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target) {
      if (target.tagName === "DETAILS") { target.open = true; }
      target.scrollIntoView();
    }
    document.body.dataset.rendered = String(groups.length);
  }

  function start() {
    fetch("/openapi.json", { headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("/openapi.json answered " + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function (err) {
        var status = document.getElementById("status") || add(document.getElementById("operations"), el("p"));
        status.textContent = "Could not read the document: " + err.message;
        status.className = "error";
      });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
`

const apiDocsCSS = `:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6475; --line: #d9dee7; --bg: #ffffff; --panel: #f5f7fa;
  --get: #1f6feb; --post: #1a7f37; --put: #9a6700; --patch: #8250df; --delete: #cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ef; --muted: #a0a8b8; --line: #343b48; --bg: #14181f; --panel: #1c222c; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 1.25rem 1.5rem; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 .5rem; font-size: 1.5rem; }
header p { margin: .25rem 0; max-width: 60rem; color: var(--muted); }
#filter { margin-top: .75rem; width: min(32rem, 100%); padding: .5rem .75rem; font: inherit; color: inherit;
  background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
.layout { display: grid; grid-template-columns: minmax(14rem, 22rem) 1fr; }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; padding: 1rem; border-right: 1px solid var(--line); font-size: .85rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: .2rem 0; }
nav a { color: inherit; text-decoration: none; word-break: break-all; }
nav a:hover { text-decoration: underline; }
.nav-method { margin-left: .35rem; font-size: .7rem; font-weight: 600; }
main { padding: 1rem 1.5rem 4rem; min-width: 0; }
section.path-group { margin-bottom: 1.5rem; }
section.path-group h2 { font-size: 1rem; margin: 1.25rem 0 .5rem; word-break: break-all; }
details.operation { border: 1px solid var(--line); border-left-width: 4px; border-radius: 6px; margin: .4rem 0; background: var(--panel); }
details.operation > summary { cursor: pointer; padding: .5rem .75rem; display: flex; gap: .75rem; align-items: baseline; flex-wrap: wrap; }
.method { font-weight: 700; font-size: .8rem; min-width: 4rem; }
.op-path { word-break: break-all; }
.summary { color: var(--muted); flex: 1 1 20rem; }
.operation-body { padding: .25rem 1rem 1rem; border-top: 1px solid var(--line); background: var(--bg); }
.method-get { border-left-color: var(--get); } .method-get .method, .nav-method.method-get { color: var(--get); }
.method-post { border-left-color: var(--post); } .method-post .method, .nav-method.method-post { color: var(--post); }
.method-put { border-left-color: var(--put); } .method-put .method, .nav-method.method-put { color: var(--put); }
.method-patch { border-left-color: var(--patch); } .method-patch .method, .nav-method.method-patch { color: var(--patch); }
.method-delete { border-left-color: var(--delete); } .method-delete .method, .nav-method.method-delete { color: var(--delete); }
h4 { margin: 1rem 0 .35rem; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
td p { margin: 0 0 .2rem; }
td.type, div.type { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .82rem; color: var(--muted); }
.required { margin-left: .4rem; font-size: .7rem; color: var(--delete); }
.fact { color: var(--muted); font-size: .82rem; }
.schema { margin: .25rem 0 .25rem .25rem; }
.schema .schema { padding-left: .75rem; border-left: 2px solid var(--line); }
.schema-name { font-weight: 600; font-size: .85rem; }
.media-type { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .8rem; color: var(--muted); margin-top: .25rem; }
dl.responses { display: grid; grid-template-columns: 4rem 1fr; gap: .25rem .75rem; margin: 0; }
dl.responses dt { font-weight: 700; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
dl.responses dd { margin: 0; }
dl.responses dd p { margin: 0; }
.status-2 { color: var(--post); } .status-4 { color: var(--put); } .status-5 { color: var(--delete); }
.description { margin: .25rem 0; }
.auth { color: var(--muted); font-size: .85rem; }
.error { color: var(--delete); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
@media (max-width: 48rem) {
  .layout { grid-template-columns: 1fr; }
  nav { position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--line); }
}
`
