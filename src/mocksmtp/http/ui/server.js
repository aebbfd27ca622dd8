// The server page: statistics, injected faults (add, remove), retention, version.
import { api, el, fields, send, size, status } from "./dom.js";

const STAGES = ["connect", "helo", "auth", "mail", "rcpt", "data", "message"];

async function faults(section) {
  let list;
  try {
    list = await api("/api/mocksmtp/faults");
  } catch (e) {
    return el("p", { class: "ok", text: `Faults cannot be managed here (${e.message}).` });
  }
  const refresh = async () => section.replaceWith(await faults(section));
  const rows = list.map((f) => el("tr", {},
    el("td", { text: f.stage }),
    el("td", { text: [f.code, f.message, f.disconnect ? "(then disconnects)" : null].filter((x) => x != null).join(" ") }),
    el("td", { text: f.match || (f.match_regex ? `/${f.match_regex}/` : f.match_callable) || "any" }), el("td", { text: `${f.triggered} / ${f.remaining ?? "∞"}` }),
    el("td", {}, el("button", { type: "button", class: "danger", "aria-label": `Remove fault ${f.id}`, text: "Remove",
      onclick: async () => { await api(`/api/mocksmtp/faults/${encodeURIComponent(f.id)}`, { method: "DELETE" }); await refresh(); } }))));
  const form = el("form", { class: "fault", "aria-label": "Add a fault" },
    el("label", {}, "Stage", el("select", { name: "stage" }, STAGES.map((s) => el("option", { value: s, text: s })))),
    el("label", {}, "Code", el("input", { name: "code", type: "number", min: 400, max: 599, value: 451, required: true })),
    el("label", {}, "Message", el("input", { name: "message", placeholder: "default for the stage" })),
    el("label", {}, "Match", el("input", { name: "match", placeholder: "e.g. an address" })),
    el("label", {}, "Times", el("input", { name: "times", type: "number", min: 1, placeholder: "always" })),
    el("button", { type: "submit", text: "Add fault" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { stage: data.get("stage"), code: Number(data.get("code")) };
    for (const key of ["message", "match"]) if (data.get(key)) body[key] = data.get(key);
    if (data.get("times")) body.times = Number(data.get("times"));
    try { await send("POST", "/api/mocksmtp/faults", body); await refresh(); } catch (e) { status(`Fault not added: ${e.message}`); }
  });
  const wrap = el("div", { id: "faults" },
    list.length ? el("table", {}, el("thead", {}, el("tr", {}, ["Stage", "Reply", "Match", "Triggered / left", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows)) : el("p", { class: "ok", text: "No faults: every command gets its normal reply." }),
    form);
  section = wrap;
  return wrap;
}

export async function showServer(section) {
  const [info, server] = await Promise.all([api("/api/v1/info"), api("/api/mocksmtp/server")]);
  const r = server.Retention;
  const retention = r.MaxMessages || r.MaxAge
    ? [r.MaxMessages ? `at most ${r.MaxMessages} messages` : null, r.MaxAge ? `none older than ${r.MaxAge} s` : null].filter(Boolean).join(", ")
    : "none: messages are kept until deleted";
  section.replaceChildren(
    el("h1", { text: "Server" }),
    fields([["Version", server.Version], ["Uptime", `${info.RuntimeStats.Uptime} s`], ["Messages", `${info.Messages} (${info.Unread} unread)`],
      ["Database", info.Database || "in memory"], ["Retention", retention]]),
    el("h2", { text: "SMTP statistics" }),
    fields(Object.entries(server.Stats).map(([k, v]) => [k.replaceAll("_", " "), k.includes("bytes") ? size(v) : v])),
    el("h2", { text: "Injected faults" }),
    await faults(el("div")));
}
