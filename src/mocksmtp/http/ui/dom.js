// Small helpers shared by the UI's modules: building elements (text only, never HTML from a
// message), calling the API, and showing sizes and times.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) {
    const reason = (await response.text()).trim() || response.statusText;
    throw new Error(`${response.status}: ${reason}`);
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export function send(method, path, body) {
  return api(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const sameDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const otherDay = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });

// A <time> in the browser's time zone, with the UTC instant on hover.
export function time(iso, long = false) {
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  const text = long ? full.format(at) : (today ? sameDay : otherDay).format(at);
  return el("time", { datetime: at.toISOString(), title: at.toISOString().replace("T", " ").replace("Z", " UTC"), text });
}

export function address(a) {
  if (!a) return "";
  return a.Name ? `${a.Name} <${a.Address}>` : a.Address;
}

export function status(text) {
  document.getElementById("status").textContent = text;
}

// A <dl> of label and value (text or an element); empty values are left out.
export function fields(pairs) {
  const shown = pairs.filter(([, v]) => v !== "" && v !== null && v !== undefined);
  return el("dl", { class: "fields" }, shown.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, typeof v === "number" ? String(v) : v)]));
}
