// The Inbox's page. Everything in a log comes from a failing shop: it only ever reaches the page as text
// (textContent, form values, title attributes), never as HTML, a URL or a style. No innerHTML anywhere.
"use strict";
(function () {
  const API = "/_inbox/api";
  const PAGE_SIZE = 50;
  const $ = (id) => document.getElementById(id);
  const state = {
    token: null, version: -1, loadedOnce: false, refreshing: false, again: false, cursors: [null], page: 0, shown: [], seen: 0, logs: [], detail: null, timer: 0,
    options: { integration: [], exception_type: [], response_code: [] },
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return (await response.json()).data;
  }

  // ---- time ----
  const pad = (n) => String(n).padStart(2, "0");
  function parseTime(text) {
    const date = new Date(text);
    return isNaN(date.getTime()) ? null : date;
  }
  function shortTime(text) {
    const date = parseTime(text);
    if (!date) return String(text || "");
    const now = new Date();
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    if (date.toDateString() === now.toDateString()) return clock;
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}`;
  }
  function localTime(date) {
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
      `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} (UTC${zone})`;
  }

  // ---- filters ----
  const FILTERS = [
    ["integration", "f-integration", "All integrations", (v) => `Integration ${v}`],
    ["exception_type", "f-exception-type", "All exception types", (v) => v],
    ["response_code", "f-response-code", "All response codes", (v) => String(v)],
  ];

  function fillSelect(name, id, allText, label, facets) {
    const select = $(id);
    const chosen = select.value;
    const previous = chosen && chosen !== "any" ? state.options[name][Number(chosen)] : undefined;
    const values = facets.map((f) => f.value);
    if (previous !== undefined && !values.some((v) => v === previous)) values.push(previous);
    state.options[name] = values;
    const counts = new Map(facets.map((f) => [f.value, f.count]));
    select.replaceChildren();
    const any = el("option", null, allText);
    any.value = "any";
    select.appendChild(any);
    values.forEach((value, index) => {
      const none = value === null || value === "";
      const text = none ? "(none)" : label(value);
      const option = el("option", null, counts.has(value) ? `${text} (${counts.get(value)})` : text);
      option.value = String(index);
      select.appendChild(option);
    });
    const keep = previous === undefined ? "any" : String(values.indexOf(previous));
    select.value = keep;
  }

  function query(cursor) {
    const params = new URLSearchParams();
    params.set("page_size", String(PAGE_SIZE));
    for (const [name, id] of FILTERS) {
      const chosen = $(id).value;
      if (!chosen || chosen === "any") continue;
      const value = state.options[name][Number(chosen)];
      params.set(name === "integration" ? "integration" : name, value === null ? "" : String(value));
    }
    const text = $("f-text").value.trim();
    if (text) params.set("q", text);
    if (cursor) {
      params.set("cursor", cursor.cursor);
      params.set("cursor_id", String(cursor.cursor_id));
    }
    return params.toString();
  }

  // ---- list ----
  function cell(row, className, text) {
    const td = el("td", className, text);
    row.appendChild(td);
    return td;
  }

  function renderRow(log, fresh) {
    const row = el("tr", log.summary ? "summary" : null);
    if (fresh) row.classList.add("new");
    row.tabIndex = 0;
    row.dataset.id = String(log.id);
    const time = cell(row, "time", shortTime(log.created_at));
    time.title = String(log.created_at || "");
    cell(row, "integration", log.integration_id);
    cell(row, "method", log.method || "\u2014");
    const code = log.response_code;
    const codeCell = cell(row, "code", code === null || code === undefined ? "\u2014" : code);
    if (typeof code === "number" && code >= 400) codeCell.classList.add(code >= 500 ? "code-5" : "code-4");
    cell(row, "type", log.exception_type || "\u2014");
    cell(row, "url", log.full_url || log.base_url || "");
    const exception = cell(row, "exception");
    if (log.summary) {
      const s = log.summary;
      const badge = el("span", "storm", `storm: +${s.more} more, ${s.first}\u2013${s.last}`);
      badge.title = `A summary: ${s.more} more logs like this one between ${s.first} and ${s.last}`;
      exception.appendChild(badge);
    }
    exception.appendChild(document.createTextNode(log.exception_line || ""));
    if (log.more_lines) exception.appendChild(el("span", "more", " \u2026"));
    const open = () => { location.hash = `#log=${encodeURIComponent(String(log.id))}`; };
    row.addEventListener("click", open);
    row.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
    return row;
  }

  function describe(data) {
    const first = state.page * PAGE_SIZE + 1;
    const last = state.page * PAGE_SIZE + data.logs.length;
    const filtered = data.matching !== data.stored;
    $("summary").textContent = data.logs.length
      ? `Logs ${first.toLocaleString()}\u2013${last.toLocaleString()} of ${data.matching.toLocaleString()}` +
        (filtered ? ` matching (${data.stored.toLocaleString()} stored)` : "")
      : (filtered ? `No log matches (${data.stored.toLocaleString()} stored)` : "");
    $("page").textContent = data.logs.length ? `page ${state.page + 1} of ${Math.max(1, Math.ceil(data.matching / PAGE_SIZE))}` : "";
    const empty = $("empty");
    empty.hidden = data.logs.length > 0;
    empty.textContent = data.stored ? "No log matches these filters." :
      "No logs yet. Point SendcloudHandler (SENDCLOUD_API_URL) at this Inbox; they show here as they arrive.";
    $("logs").hidden = data.logs.length === 0;
  }

  async function loadPage() {
    const data = await getJSON(`${API}/logs?${query(state.cursors[state.page])}`);
    const known = new Set(state.logs.map((log) => log.id));
    const mark = state.page === 0 && state.loadedOnce;
    const rows = $("rows");
    rows.replaceChildren(...data.logs.map((log) => renderRow(log, mark && !known.has(log.id) && log.id > state.seen)));
    state.logs = data.logs;
    state.version = Math.max(state.version, data.version);
    if (state.page === 0) {
      state.seen = Math.max(state.seen, ...data.logs.map((log) => log.id), 0);
      state.loadedOnce = true;
    }
    state.cursors.length = state.page + 1;
    if (data.next) state.cursors.push(data.next);
    $("older").disabled = !data.next;
    $("newer").disabled = state.page === 0;
    $("newest").hidden = true;
    describe(data);
    document.body.dataset.loaded = String((Number(document.body.dataset.loaded) || 0) + 1);
  }

  async function loadFacets() {
    const facets = await getJSON(`${API}/facets`);
    const names = { integration: "integration_id", exception_type: "exception_type", response_code: "response_code" };
    for (const [name, id, allText, label] of FILTERS) fillSelect(name, id, allText, label, facets[names[name]] || []);
  }

  function restart() {
    state.cursors = [null];
    state.page = 0;
    loadPage().catch(failed);
  }

  // One refresh at a time: changes that arrive meanwhile (a storm) are taken in by one more refresh after it.
  async function refresh() {
    if (state.refreshing) {
      state.again = true;
      return;
    }
    state.refreshing = true;
    try {
      do {
        state.again = false;
        await loadFacets();
        if (state.page === 0 && !state.detail) await loadPage();
        else $("newest").hidden = false;
      } while (state.again);
    } finally {
      state.refreshing = false;
    }
  }

  // ---- detail ----
  function valueNode(value) {
    if (value === null || value === undefined) return el("span", "none", "null");
    if (typeof value === "object") return tree(value);
    if (typeof value === "string" && value === "") return el("span", "none", "(empty)");
    return el("span", "mono", typeof value === "string" ? value : JSON.stringify(value));
  }

  function leaf(value) {
    if (value === null) return el("span", "z", "null");
    if (typeof value === "string") return el("span", "s", JSON.stringify(value));
    if (typeof value === "number") return el("span", "n", String(value));
    if (typeof value === "boolean") return el("span", "b", String(value));
    return el("span", null, String(value));
  }

  // JSON indented and collapsible: <details> per object and array, open for the first levels.
  function tree(value, depth, label) {
    depth = depth || 0;
    if (value === null || typeof value !== "object") return leaf(value);
    const array = Array.isArray(value);
    const entries = array ? value.map((v, i) => [i, v]) : Object.keys(value).map((k) => [k, value[k]]);
    const details = el("details", depth === 0 ? "tree" : null);
    details.open = depth < 4 && entries.length <= 200;
    const summary = el("summary");
    if (label) summary.appendChild(el("span", "k", label));
    const noun = array ? (entries.length === 1 ? "item" : "items") : (entries.length === 1 ? "key" : "keys");
    summary.appendChild(document.createTextNode(`${array ? "[" : "{"} ${entries.length} ${noun} ${array ? "]" : "}"}`));
    details.appendChild(summary);
    const list = el("ul");
    for (const [key, item] of entries) {
      const li = el("li");
      const name = array ? `${key}: ` : `${JSON.stringify(String(key))}: `;
      if (item !== null && typeof item === "object") {
        li.appendChild(tree(item, depth + 1, name));
      } else {
        li.appendChild(el("span", "k", name));
        li.appendChild(leaf(item));
      }
      list.appendChild(li);
    }
    details.appendChild(list);
    return details;
  }

  function kindOf(text, headers) {
    const type = headerValue(headers, "content-type").toLowerCase();
    const start = text.trimStart().slice(0, 100).toLowerCase();
    if (type.includes("html") || start.startsWith("<!doctype html") || start.startsWith("<html")) return "HTML, shown as text";
    if (type.includes("xml") || start.startsWith("<?xml") || start.startsWith("<")) return "XML, shown as text";
    return "text";
  }

  function headerValue(headers, name) {
    if (!headers || typeof headers !== "object") return "";
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return String(headers[key]);
    return "";
  }

  function body(value, headers) {
    const box = el("div");
    if (value === null || value === undefined || value === "") {
      box.appendChild(el("span", "none", value === "" ? "(empty)" : "none"));
      return box;
    }
    if (typeof value === "object") {
      box.appendChild(el("span", "kind", "JSON"));
      box.appendChild(tree(value));
      return box;
    }
    const text = String(value);
    const trimmed = text.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        const parsed = JSON.parse(trimmed);
        box.appendChild(el("span", "kind", "JSON (from text)"));
        box.appendChild(tree(parsed));
        return box;
      } catch (e) { /* not JSON: shown as the text it is */ }
    }
    box.appendChild(el("span", "kind", kindOf(text, headers)));
    box.appendChild(el("pre", null, text));
    return box;
  }

  function headersTable(headers) {
    if (headers === null || headers === undefined) return el("span", "none", "none");
    if (typeof headers !== "object") return el("pre", null, String(headers));
    const names = Object.keys(headers);
    if (!names.length) return el("span", "none", "(no headers)");
    const table = el("table", "headers");
    const head = el("thead");
    const top = el("tr");
    top.appendChild(el("th", null, "Header"));
    top.appendChild(el("th", null, "Value"));
    head.appendChild(top);
    table.appendChild(head);
    const rows = el("tbody");
    for (const name of names) {
      const row = el("tr");
      row.appendChild(el("td", null, name));
      const value = headers[name];
      row.appendChild(el("td", null, typeof value === "string" ? value : JSON.stringify(value)));
      rows.appendChild(row);
    }
    table.appendChild(rows);
    const wrap = el("div", "table-wrap");
    wrap.appendChild(table);
    return wrap;
  }

  function part(title, value, key) {
    const card = el("section", "card");
    card.appendChild(el("h2", null, title));
    if (value === null || value === undefined || typeof value !== "object") {
      card.appendChild(value === null || value === undefined ? el("span", "none", "none") : el("pre", null, String(value)));
      return card;
    }
    card.appendChild(el("h3", null, "Headers"));
    card.appendChild(headersTable(value.headers));
    card.appendChild(el("h3", null, key === "payload" ? "Payload" : "Body"));
    card.appendChild(body(value[key], value.headers));
    const others = Object.keys(value).filter((k) => k !== "headers" && k !== key);
    for (const other of others) {
      card.appendChild(el("h3", null, other));
      card.appendChild(valueNode(value[other]));
    }
    return card;
  }

  const SUMMARY = /\(\+([0-9]{1,12}) more like this between ([0-9:]{8}) and ([0-9:]{8})\)\s*$/;
  const ORDER = ["id", "integration_id", "created_at", "base_url", "full_url", "method", "response_code",
    "exception_type", "exception", "protected", "additional_data"];

  function renderDetail(log) {
    const root = $("detail");
    const head = el("section", "card");
    const code = log.response_code === null || log.response_code === undefined ? "" : ` ${log.response_code}`;
    head.appendChild(el("p", "headline", `${log.exception_type || "No exception type"}${code}`));
    head.appendChild(el("p", "mono", `${log.method || ""} ${log.full_url || log.base_url || ""}`.trim()));
    const storm = SUMMARY.exec(typeof log.exception === "string" ? log.exception : "");
    if (storm) {
      head.appendChild(el("p", "storm", `Storm summary: this log stands for ${Number(storm[1]) + 1} alike, ` +
        `seen between ${storm[2]} and ${storm[3]}`));
    }
    const fields = el("dl", "fields");
    const keys = ORDER.filter((k) => k in log).concat(Object.keys(log).filter((k) => !ORDER.includes(k) && k !== "request" && k !== "response"));
    for (const key of keys) {
      fields.appendChild(el("dt", null, key));
      const dd = el("dd");
      if (key === "created_at") {
        const date = parseTime(log.created_at);
        dd.appendChild(el("div", "mono", String(log.created_at)));
        if (date) {
          dd.appendChild(el("div", null, `local: ${localTime(date)}`));
          dd.appendChild(el("div", null, `UTC: ${date.toISOString()}`));
        }
      } else if (key === "exception" && typeof log.exception === "string") {
        dd.appendChild(el("pre", null, log.exception));
      } else {
        dd.appendChild(valueNode(log[key]));
      }
      fields.appendChild(dd);
    }
    head.appendChild(fields);
    root.replaceChildren(head, part("Request", log.request, "payload"), part("Response", log.response, "body"));
  }

  async function showDetail(id) {
    $("copy-text").hidden = true;
    $("copied").textContent = "";
    $("list-view").hidden = true;
    $("detail-view").hidden = false;
    try {
      state.detail = await getJSON(`${API}/logs/${encodeURIComponent(id)}`);
      renderDetail(state.detail);
    } catch (error) {
      state.detail = null;
      $("detail").replaceChildren(el("p", "empty", `Log ${id} is not here (cleared, or never stored).`));
    }
    window.scrollTo(0, 0);
  }

  function showList() {
    const wasDetail = state.detail !== null || !$("detail-view").hidden;
    state.detail = null;
    $("detail-view").hidden = true;
    $("list-view").hidden = false;
    if (wasDetail) loadPage().catch(failed);
  }

  function route() {
    const found = /^#log=([0-9]{1,19})$/.exec(location.hash);
    if (found) showDetail(found[1]);
    else showList();
  }

  async function copyDetail() {
    if (!state.detail) return;
    const text = JSON.stringify(state.detail, null, 2);
    try {
      await navigator.clipboard.writeText(text);
      $("copied").textContent = "Copied";
    } catch (error) {
      const area = $("copy-text");
      area.value = text;
      area.hidden = false;
      area.focus();
      area.select();
      $("copied").textContent = "Press Ctrl-C (or \u2318-C) to copy";
    }
  }

  async function clearAll() {
    const stored = state.logs.length ? $("summary").textContent : "";
    if (!window.confirm(`Delete every log in this Inbox? ${stored}`.trim())) return;
    const response = await fetch(`${API}/clear`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Inbox-Token": state.token || "" },
      body: "{}",
    });
    if (!response.ok) throw new Error(`clear: HTTP ${response.status}`);
    state.seen = 0;
    state.logs = [];
    await loadFacets();
    restart();
  }

  // ---- live ----
  function listen() {
    const live = $("live");
    const source = new EventSource(`${API}/events`);
    source.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
    source.addEventListener("error", () => { live.textContent = "reconnecting\u2026"; live.className = "live off"; });
    source.addEventListener("change", (event) => {
      const version = Number(event.data);
      if (version <= state.version) return;
      state.version = version;
      refresh().catch(failed);
    });
  }

  function failed(error) {
    const live = $("live");
    live.textContent = "Inbox not reachable";
    live.className = "live off";
    if (window.console) console.warn(String(error && error.message ? error.message : error));
  }

  async function start() {
    const info = await getJSON(`${API}/info`);
    state.token = info.token;
    $("database").textContent = info.in_memory
      ? "Reading the Inbox's in-memory database: logs go when it stops."
      : `Reading the database ${info.database}.`;
    for (const [, id] of FILTERS) $(id).addEventListener("change", restart);
    $("f-text").addEventListener("input", () => { clearTimeout(state.timer); state.timer = setTimeout(restart, 200); });
    $("older").addEventListener("click", () => { if (state.cursors[state.page + 1]) { state.page += 1; loadPage().catch(failed); } });
    $("newer").addEventListener("click", () => { if (state.page > 0) { state.page -= 1; loadPage().catch(failed); } });
    $("newest").addEventListener("click", () => { location.hash = ""; restart(); });
    $("clear").addEventListener("click", () => { clearAll().catch(failed); });
    $("back").addEventListener("click", () => { location.hash = ""; });
    $("copy").addEventListener("click", () => { copyDetail(); });
    window.addEventListener("hashchange", route);
    await loadFacets();
    await loadPage();
    route();
    listen();
  }

  start().catch(failed);
})();
