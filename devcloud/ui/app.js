// The devcloud page: follows the server's events (Server-Sent Events, never polled), keeps a copy
// of every endpoint's view, and draws the selected one. Plain ES module, no build step.

const LOG_LENGTH = 500;
const HISTORY_LENGTH = 300;
const SPARK_POINTS = 60;
const REJECTED_SHOWN = 100;
const SVG = "http://www.w3.org/2000/svg";
const COLUMNS = [
  ["Attribute", "name"],
  ["Type", "type"],
  ["Constraint", "constraint"],
  ["Value", "value"],
  ["Age", "age"],
  ["History or new value", "extra"],
];

/** Every endpoint's view, by UUID, as `GET /api/state` gives it and the events update it. */
const endpoints = new Map();
/** Rejected messages whose topic names no endpoint. */
const orphans = [];
/** The drawn attribute rows of the selected endpoint, by path. */
const rows = new Map();
let treeKey = "";
let drawnUuid;
/** The endpoint shown when the address names none: chosen once, kept while it exists. */
let chosen;

const byId = (id) => document.getElementById(id);

/** Creates an element: attributes (`class`, `on…` listeners, the rest as attributes) and children. */
function h(tag, attributes = {}, ...children) {
  const element = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.setAttribute("class", value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// ---------------------------------------------------------------------------------------------
// The model: the same bookkeeping as the server's DevCloud, applied to its events.

function viewOf(uuid) {
  let view = endpoints.get(uuid);
  if (!view) {
    view = {
      uuid,
      online: false,
      since: Date.now(),
      supportedFormats: ["JSON"],
      nodes: {},
      history: {},
      logs: [],
      jobs: [],
      rejected: [],
    };
    endpoints.set(uuid, view);
  }
  return view;
}

function findAttribute(nodes, path) {
  const levels = path.split("/");
  if (levels.length < 3) return undefined;
  let object = nodes[levels[0]]?.objects?.[levels[1]];
  for (let i = 2; object && i < levels.length - 1; i++) object = object.objects?.[levels[i]];
  return object?.attributes?.[levels.at(-1)];
}

function addPoint(view, path, attribute) {
  if (attribute.value === undefined || attribute.timestamp === undefined) return;
  const points = view.history[path] ??= [];
  const last = points.at(-1);
  if (last && last.timestamp === attribute.timestamp && last.value === attribute.value) return;
  points.push({ timestamp: attribute.timestamp, value: attribute.value });
  if (points.length > HISTORY_LENGTH) points.splice(0, points.length - HISTORY_LENGTH);
}

function addPoints(view, prefix, container) {
  for (const [name, object] of Object.entries(container.objects ?? {})) {
    const path = `${prefix}/${name}`;
    for (const [attributeName, attribute] of Object.entries(object.attributes ?? {})) {
      addPoint(view, `${path}/${attributeName}`, attribute);
    }
    addPoints(view, path, object);
  }
}

function jobOf(view, correlationID) {
  let job = view.jobs.find((j) => j.correlationID === correlationID);
  if (!job) {
    job = { correlationID, output: [] };
    view.jobs.push(job);
  }
  return job;
}

/** Applies one message of the event stream and redraws what it touched. */
function apply(message) {
  if (message.type === "snapshot") {
    endpoints.clear();
    orphans.length = 0;
    for (const view of message.state.endpoints) endpoints.set(view.uuid, view);
    showBroker(message.state.brokerUrl);
    treeKey = "";
    drawnUuid = undefined;
    drawAll();
    return;
  }
  if (message.type === "rejected" && !message.uuid) {
    orphans.push({
      at: message.at,
      topic: message.topic,
      problems: message.problems,
      excerpt: message.excerpt,
    });
    drawRejected();
    return;
  }
  const view = viewOf(message.uuid);
  const shown = () => view.uuid === selectedUuid();
  switch (message.type) {
    case "online":
      view.online = true;
      view.since = message.at;
      Object.assign(view.nodes, message.nodes);
      for (const [name, node] of Object.entries(message.nodes)) addPoints(view, name, node);
      drawEndpoints();
      if (shown()) drawDevice();
      return;
    case "offline":
      view.online = false;
      view.since = message.at;
      drawEndpoints();
      if (shown()) drawHeader(view);
      return;
    case "nodeAdded":
      view.nodes[message.node] = message.model;
      addPoints(view, message.node, message.model);
      if (shown()) drawDevice();
      return;
    case "nodeRemoved":
      delete view.nodes[message.node];
      if (shown()) drawDevice();
      return;
    case "update":
    case "didSet": {
      const known = findAttribute(view.nodes, message.path);
      if (known) Object.assign(known, message.attribute);
      if (message.type === "update") addPoint(view, message.path, message.attribute);
      if (shown()) drawRow(view, message.path);
      return;
    }
    case "log":
      view.logs.push(message.record);
      if (view.logs.length > LOG_LENGTH) view.logs.splice(0, view.logs.length - LOG_LENGTH);
      if (shown()) appendLog(message.record);
      return;
    case "logsLevel":
      view.logsLevel = message.level;
      if (shown()) drawLogsLevel(view);
      return;
    case "exec":
      Object.assign(jobOf(view, message.correlationID), {
        jobURI: message.jobURI,
        data: message.data,
        sendOutput: message.sendOutput,
        started: message.at,
      });
      if (shown()) drawJobs(view);
      return;
    case "execOutput":
      jobOf(view, message.correlationID).output.push(message.data);
      if (shown()) drawJobs(view);
      return;
    case "rejected":
      view.rejected.push({
        at: message.at,
        topic: message.topic,
        problems: message.problems,
        excerpt: message.excerpt,
      });
      drawEndpoints();
      if (shown()) {
        drawHeader(view);
        drawRejected();
      }
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting.

function formatValue(value) {
  if (value === undefined || value === null) return "—";
  return typeof value === "string" ? value : String(value);
}

function clock(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Redraws every relative time; runs every second. */
function tick() {
  for (const element of document.querySelectorAll("[data-ts]")) {
    element.textContent = ago(Number(element.dataset.ts));
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing.

function selectedUuid() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && endpoints.has(wanted)) return wanted;
  if (chosen && endpoints.has(chosen)) return chosen;
  const all = [...endpoints.values()];
  chosen = (all.find((v) => v.online) ?? all[0])?.uuid;
  return chosen;
}

function showBroker(url) {
  const broker = document.querySelector("[data-testid=broker]");
  broker.hidden = !url;
  byId("broker-url").textContent = url ?? "";
}

function drawAll() {
  drawEndpoints();
  drawDevice();
}

function drawEndpoints() {
  const list = byId("endpoint-list");
  const selected = selectedUuid();
  byId("no-endpoints").hidden = endpoints.size > 0;
  const sorted = [...endpoints.values()].sort((a, b) => a.uuid.localeCompare(b.uuid));
  const items = sorted.map((view) => {
    let item = list.querySelector(`li[data-uuid="${CSS.escape(view.uuid)}"]`);
    if (!item) {
      item = h(
        "li",
        { "data-testid": "endpoint", "data-uuid": view.uuid },
        h(
          "a",
          { href: `#${encodeURIComponent(view.uuid)}` },
          h("span", { class: "dot", "aria-hidden": "true" }),
          h("span", { class: "uuid" }, view.uuid),
          h("span", { class: "state", "data-testid": "endpoint-state" }),
          h("span", { class: "bad-count", "data-testid": "endpoint-rejected" }),
        ),
      );
    }
    item.dataset.online = String(view.online);
    const link = item.querySelector("a");
    if (view.uuid === selected) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
    item.querySelector(".state").textContent = view.online ? "online" : "offline";
    const count = item.querySelector(".bad-count");
    count.textContent = view.rejected.length ? `${view.rejected.length} rejected` : "";
    count.hidden = view.rejected.length === 0;
    return item;
  });
  list.replaceChildren(...items);
}

function drawHeader(view) {
  byId("endpoint-title").textContent = view ? view.uuid : "No endpoint selected";
  const status = byId("endpoint-status");
  if (!view) {
    status.replaceChildren();
    return;
  }
  const state = view.online ? "online" : "offline";
  status.replaceChildren(
    h("span", { class: `badge ${state}`, "data-testid": "endpoint-online" }, state),
    " since ",
    h("time", { datetime: new Date(view.since).toISOString() }, clock(view.since).slice(0, 8)),
    ` · formats ${view.supportedFormats.join(", ")}`,
    view.rejected.length ? ` · ${view.rejected.length} rejected` : "",
  );
}

/** Draws the selected endpoint: header, tree (rebuilt only when its shape changed), panels. */
function drawDevice() {
  const view = endpoints.get(selectedUuid() ?? "");
  drawHeader(view);
  const key = view ? `${view.uuid}\n${shapeOf(view.nodes)}` : "";
  if (key !== treeKey) {
    treeKey = key;
    drawTree(view);
  } else if (view) {
    for (const path of rows.keys()) drawRow(view, path);
  }
  if (drawnUuid !== view?.uuid) {
    drawnUuid = view?.uuid;
    drawLogs(view);
    drawLogsLevel(view);
  }
  drawJobs(view);
  drawRejected();
  for (const form of [byId("logs-level-form"), byId("job-form")]) {
    for (const control of form.elements) control.disabled = !view;
  }
}

function shapeOf(nodes) {
  return JSON.stringify(
    nodes,
    (key, value) => key === "value" || key === "timestamp" ? undefined : value,
  );
}

function drawTree(view) {
  const tree = byId("tree");
  rows.clear();
  if (!view) {
    tree.replaceChildren(h("p", { class: "empty" }, "Waiting for an endpoint to come online…"));
    return;
  }
  const nodes = Object.entries(view.nodes);
  if (nodes.length === 0) {
    tree.replaceChildren(h("p", { class: "empty" }, "This endpoint has no nodes."));
    return;
  }
  tree.replaceChildren(
    ...nodes.map(([name, node]) =>
      h(
        "section",
        { class: "node", "data-testid": "node", "data-node": name },
        h(
          "h3",
          {},
          h("span", { class: "kind" }, "node"),
          ` ${name}`,
          node.implements?.length
            ? h("small", {}, ` implements ${node.implements.join(", ")}`)
            : "",
        ),
        ...Object.entries(node.objects ?? {}).map(([objectName, object]) =>
          drawObject(view, `${name}/${objectName}`, objectName, object, 4)
        ),
      )
    ),
  );
  for (const path of rows.keys()) drawRow(view, path);
}

function drawObject(view, path, name, object, level) {
  const headingId = `object-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const attributes = Object.entries(object.attributes ?? {});
  return h(
    "section",
    { class: "object", "data-testid": "object", "data-path": path },
    h(
      `h${Math.min(level, 6)}`,
      { id: headingId },
      h("span", { class: "kind" }, "object"),
      ` ${name}`,
      object.conforms ? h("small", {}, ` conforms to ${object.conforms}`) : "",
    ),
    attributes.length
      ? h(
        "table",
        { "aria-labelledby": headingId },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...COLUMNS.map(([t, name]) =>
              h(
                "th",
                { scope: "col", class: `col-${name}` },
                name === "extra" ? h("span", { class: "sr-only" }, t) : t,
              )
            ),
          ),
        ),
        h("tbody", {}, ...attributes.map(([n, a]) => buildRow(view.uuid, `${path}/${n}`, n, a))),
      )
      : "",
    ...Object.entries(object.objects ?? {}).map(([childName, child]) =>
      drawObject(view, `${path}/${childName}`, childName, child, level + 1)
    ),
  );
}

/** A name with line-break opportunities after each `_`, so that long names wrap there. */
function breakable(name) {
  return name.split(/(?<=_)/).flatMap((part, i) => i === 0 ? [part] : [h("wbr"), part]);
}

function buildRow(uuid, path, name, attribute) {
  const value = h("td", { class: "value", "data-testid": "value" });
  const age = h("td", { class: "age" }, h("time", { "data-testid": "age" }));
  const extra = h("td", { class: "extra" });
  const row = h(
    "tr",
    {
      "data-testid": "attribute",
      "data-path": path,
      "data-type": attribute.type,
      "data-constraint": attribute.constraint,
    },
    h("th", { scope: "row" }, ...breakable(name)),
    h("td", { "data-testid": "type" }, attribute.type),
    h(
      "td",
      { "data-testid": "constraint" },
      h("span", { class: `constraint ${attribute.constraint}` }, attribute.constraint),
    ),
    value,
    age,
    extra,
  );
  const entry = { row, value, age, spark: undefined, input: undefined };
  const numeric = attribute.type === "Number" || attribute.type === "Integer";
  if (attribute.constraint === "Measure" && numeric) {
    entry.spark = h("svg:svg", {
      class: "spark",
      "data-testid": "sparkline",
      viewBox: "0 0 120 28",
      width: 120,
      height: 28,
      role: "img",
    });
    extra.append(entry.spark);
  }
  if (attribute.constraint === "Parameter" || attribute.constraint === "SetPoint") {
    extra.append(buildSetForm(uuid, path, name, attribute, entry));
  }
  rows.set(path, entry);
  return row;
}

function buildSetForm(uuid, path, name, attribute, entry) {
  const id = `set-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const common = { id, name: "value", "data-testid": "set-input", autocomplete: "off" };
  let input;
  if (attribute.type === "Boolean") {
    input = h(
      "select",
      common,
      h("option", { value: "true" }, "true"),
      h("option", { value: "false" }, "false"),
    );
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        input.form.requestSubmit();
      }
    });
  } else if (attribute.type === "String") {
    input = h("input", { ...common, type: "text", spellcheck: "false" });
  } else {
    input = h("input", {
      ...common,
      type: "number",
      step: attribute.type === "Integer" ? "1" : "any",
      inputmode: attribute.type === "Integer" ? "numeric" : "decimal",
    });
  }
  input.addEventListener("input", () => input.dataset.dirty = "true");
  entry.input = input;
  const result = h("output", { "data-testid": "set-result", for: id, "aria-live": "polite" });
  const button = h("button", { type: "submit", "data-testid": "set-button" }, "Set");
  const form = h(
    "form",
    // Checked by parseInput(), which says what is wrong next to the field.
    { class: "set", "data-testid": "set-form", novalidate: true },
    h("label", { for: id, class: "sr-only" }, `New value of ${name}`),
    input,
    button,
    result,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendSet(uuid, path, attribute.type, input, button, result);
  });
  return form;
}

function drawRow(view, path) {
  const entry = rows.get(path);
  const attribute = findAttribute(view.nodes, path);
  if (!entry || !attribute) return;
  const text = formatValue(attribute.value);
  if (entry.value.textContent !== text) {
    entry.value.textContent = text;
    entry.value.classList.remove("changed");
    void entry.value.offsetWidth; // restart the highlight
    entry.value.classList.add("changed");
  }
  const time = entry.age.firstChild;
  if (attribute.timestamp === undefined) {
    delete time.dataset.ts;
    time.textContent = "—";
    time.removeAttribute("datetime");
    time.removeAttribute("title");
  } else {
    time.dataset.ts = String(attribute.timestamp);
    time.textContent = ago(attribute.timestamp);
    const iso = new Date(attribute.timestamp).toISOString();
    time.setAttribute("datetime", iso);
    time.setAttribute("title", iso);
  }
  if (entry.spark) drawSpark(entry.spark, path.split("/").at(-1), view.history[path] ?? []);
  const input = entry.input;
  if (input && !input.dataset.dirty && document.activeElement !== input) {
    input.value = attribute.value === undefined ? "" : String(attribute.value);
  }
}

function drawSpark(svg, name, history) {
  const points = history.slice(-SPARK_POINTS).filter((p) => typeof p.value === "number");
  svg.replaceChildren();
  if (points.length === 0) {
    svg.setAttribute("aria-label", `${name}: no values yet`);
    return;
  }
  const values = points.map((p) => p.value);
  const min = Math.min(...values), max = Math.max(...values);
  const span = max - min || 1;
  const x = (i) => points.length === 1 ? 118 : 2 + (i * 116) / (points.length - 1);
  const y = (v) => max === min ? 14 : 25 - ((v - min) * 22) / span;
  const line = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  svg.append(
    h("svg:polyline", { points: line, class: "line" }),
    h("svg:circle", { cx: x(points.length - 1), cy: y(values.at(-1)), r: 2.5, class: "last" }),
  );
  svg.setAttribute(
    "aria-label",
    `${name}: last ${points.length} values, from ${min} to ${max}, now ${values.at(-1)}`,
  );
}

function drawLogs(view) {
  const list = byId("log-lines");
  list.replaceChildren(...(view?.logs ?? []).map(logLine));
  byId("no-logs").hidden = list.childElementCount > 0;
}

function logLine(record) {
  return h(
    "li",
    { "data-testid": "log-line", "data-level": record.level },
    h("time", { datetime: new Date(record.timestamp).toISOString() }, clock(record.timestamp)),
    h("span", { class: `level ${record.level}` }, record.level),
    record.loggerName ? h("span", { class: "logger" }, record.loggerName) : "",
    h("span", { class: "message", title: record.logSource || undefined }, record.message),
  );
}

function appendLog(record) {
  const list = byId("log-lines");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
  list.append(logLine(record));
  while (list.childElementCount > LOG_LENGTH) list.firstElementChild.remove();
  byId("no-logs").hidden = true;
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function drawLogsLevel(view) {
  const result = byId("logs-level-result");
  if (view?.logsLevel) {
    byId("logs-level").value = view.logsLevel;
    result.textContent = `last sent: ${view.logsLevel}`;
  } else {
    result.textContent = "";
  }
}

function drawJobs(view) {
  const list = byId("jobs-list");
  const jobs = [...(view?.jobs ?? [])].reverse();
  list.replaceChildren(
    ...jobs.map((job) =>
      h(
        "li",
        { "data-testid": "job", "data-correlation-id": job.correlationID },
        h(
          "p",
          { class: "job-title" },
          h("code", {}, job.jobURI ?? "(started elsewhere)"),
          job.data ? h("span", {}, ` ${job.data}`) : "",
          h("span", { class: "muted" }, ` · ${job.correlationID}`),
          job.started ? h("span", { class: "muted" }, ` · ${clock(job.started)}`) : "",
        ),
        job.output.length ? h("pre", { "data-testid": "job-output" }, job.output.join("\n")) : h(
          "p",
          { class: "muted", "data-testid": "job-output" },
          job.sendOutput === false ? "No output asked for." : "No output yet.",
        ),
      )
    ),
  );
}

function drawRejected() {
  const view = endpoints.get(selectedUuid() ?? "");
  const all = [...orphans, ...(view?.rejected ?? [])].sort((a, b) => b.at - a.at);
  byId("rejected-count").textContent = String(all.length);
  byId("no-rejected").hidden = all.length > 0;
  byId("rejected-list").replaceChildren(
    ...all.slice(0, REJECTED_SHOWN).map((r) =>
      h(
        "li",
        { "data-testid": "rejected-item" },
        h(
          "p",
          {},
          h("time", { datetime: new Date(r.at).toISOString() }, clock(r.at)),
          " ",
          h("code", { "data-testid": "rejected-topic" }, r.topic),
        ),
        h(
          "ul",
          { class: "problems" },
          ...r.problems.map((p) => h("li", { "data-testid": "rejected-problem" }, p)),
        ),
        r.excerpt ? h("details", {}, h("summary", {}, "Payload"), h("pre", {}, r.excerpt)) : "",
      )
    ),
  );
}

function setConnection(state, text) {
  const element = byId("connection");
  element.dataset.state = state;
  element.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Actions.

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const reply = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(reply.error ?? `HTTP ${response.status}`);
  return reply;
}

function parseInput(type, raw) {
  const text = raw.trim();
  switch (type) {
    case "Boolean":
      return raw === "true";
    case "Integer":
      if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
        throw new Error("enter a whole number");
      }
      return Number(text);
    case "Number":
      if (text === "" || !Number.isFinite(Number(text))) throw new Error("enter a number");
      return Number(text);
    default:
      return raw;
  }
}

async function sendSet(uuid, path, type, input, button, result) {
  let value;
  try {
    value = parseInput(type, input.value);
  } catch (error) {
    result.dataset.state = "error";
    result.textContent = `Cannot send: ${error.message}`;
    return;
  }
  result.dataset.state = "pending";
  result.textContent = "sent @set, waiting for @didSet…";
  button.disabled = true;
  try {
    const reply = await post(`api/endpoints/${encodeURIComponent(uuid)}/set`, { path, value });
    if (!reply.confirmed) {
      result.dataset.state = "timeout";
      result.textContent = `no @didSet within ${(reply.timeout ?? 5000) / 1000} s`;
    } else if (reply.attribute?.value !== value) {
      result.dataset.state = "refused";
      result.textContent = `the device kept ${
        formatValue(reply.attribute?.value)
      } (@didSet in ${reply.latency} ms)`;
    } else {
      result.dataset.state = "confirmed";
      result.textContent = `confirmed in ${reply.latency} ms`;
    }
    delete input.dataset.dirty;
  } catch (error) {
    result.dataset.state = "error";
    result.textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

byId("logs-level-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const uuid = selectedUuid();
  const result = byId("logs-level-result");
  if (!uuid) return;
  try {
    const { level } = await post(`api/endpoints/${encodeURIComponent(uuid)}/logsLevel`, {
      level: byId("logs-level").value,
    });
    result.textContent = `sent ${level}`;
  } catch (error) {
    result.textContent = error.message;
  }
});

byId("job-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const uuid = selectedUuid();
  const result = byId("job-result");
  if (!uuid) return;
  try {
    const { correlationID } = await post(`api/endpoints/${encodeURIComponent(uuid)}/exec`, {
      jobURI: byId("job-uri").value,
      data: byId("job-data").value,
      sendOutput: byId("job-send-output").checked,
    });
    result.textContent = `sent as ${correlationID}`;
  } catch (error) {
    result.textContent = error.message;
  }
});

addEventListener("hashchange", () => {
  drawEndpoints();
  drawDevice();
});

// ---------------------------------------------------------------------------------------------
// The event stream: a snapshot first, then every event. EventSource reconnects by itself and
// each reconnection starts with a fresh snapshot.

const source = new EventSource("api/events");
source.addEventListener("open", () => setConnection("live", "live"));
source.addEventListener("error", () => {
  setConnection(
    "down",
    source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting…",
  );
});
source.addEventListener("message", (event) => apply(JSON.parse(event.data)));
setInterval(tick, 1000);
drawAll();
