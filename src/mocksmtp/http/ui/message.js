// One message: heading, tabs (HTML, text, headers, raw, attachments, envelope & checks).
import { address, api, el, fields, send, size, time } from "./dom.js";

function table(head, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, head.map((h) => el("th", { text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c))))));
}

function preview(m, remote) {
  const panel = el("div");
  const blocked = m.RemoteResources.length;
  const src = `/api/mocksmtp/message/${encodeURIComponent(m.ID)}/preview${remote ? "?remote=1" : ""}`;
  if (blocked && !remote) {
    panel.append(el("p", { class: "notice", role: "note" },
      `${blocked} remote resource${blocked > 1 ? "s are" : " is"} blocked (the recipient's mail client would fetch ${blocked > 1 ? "them" : "it"}). `,
      el("button", { type: "button", id: "allow-remote", text: "Load remote images",
        onclick: () => panel.replaceWith(preview(m, true)) })));
  } else if (blocked) {
    panel.append(el("p", { class: "notice", role: "note", text: `Remote resources loaded for this message: ${m.RemoteResources.join(", ")}` }));
  }
  panel.append(el("iframe", { class: "preview", title: "HTML preview (scripts disabled)", src,
    sandbox: "allow-popups allow-popups-to-escape-sandbox", referrerpolicy: "no-referrer" }));
  return panel;
}

async function headers(m) {
  const found = await api(`/api/v1/message/${encodeURIComponent(m.ID)}/headers`);
  return table(["Header", "Value"], Object.entries(found).flatMap(([k, vs]) => vs.map((v) => [k, v])));
}

async function raw(m) {
  return el("pre", { class: "raw", text: await api(`/api/v1/message/${encodeURIComponent(m.ID)}/raw`) });
}

function attachments(m) {
  const all = [...m.Attachments, ...m.Inline];
  if (!all.length) return el("p", { class: "ok", text: "No attachments." });
  return table(["File", "Type", "Size", "SHA-256"], all.map((a) => [
    el("a", { href: `/api/v1/message/${encodeURIComponent(m.ID)}/part/${a.PartID}`, download: a.FileName || `part-${a.PartID}`,
      text: a.FileName || `part ${a.PartID}` }),
    a.ContentType + (a.ContentID ? " (inline)" : ""), size(a.Size), el("code", { text: a.Checksums.SHA256 }),
  ]));
}

function envelope(m) {
  const badges = (list, none) => list.length ? list.map((f) => el("span", { class: "badge", text: f })) : el("span", { class: "ok", text: none });
  return el("div", {},
    el("h2", { text: "SMTP envelope" }),
    fields([
      ["MAIL FROM", `<${m.Envelope.MailFrom}>` + (m.Envelope.MailOptions.length ? ` ${m.Envelope.MailOptions.join(" ")}` : "")],
      ["RCPT TO", m.Envelope.RcptTo.map((r) => `<${r}>`).join(", ")],
      ["Client", `${m.Client.Address}:${m.Client.Port}`],
      ["HELO", m.Client.Helo || "(none)"],
      ["TLS", m.TLS || "no"],
      ["AUTH user", m.AuthUser || "none"],
      ["Received", time(m.Created, true)],
    ]),
    el("h2", { text: "Protocol flags" }), el("p", {}, badges(m.Flags, "None: CRLF line ends, short lines, 7-bit or declared.")),
    el("h2", { text: "MIME defects" }), el("p", {}, badges(m.Defects, "None.")),
    el("h2", { text: `Links (${m.Links.length})` }),
    m.Links.length ? el("ul", {}, m.Links.map((u) => el("li", {}, el("a", { href: u, rel: "noreferrer noopener", target: "_blank", text: u }))))
      : el("p", { class: "ok", text: "None." }));
}

export async function showMessage(section, id, onDelete) {
  const m = await api(`/api/mocksmtp/message/${encodeURIComponent(id)}`);
  if (!m.Read) send("PUT", "/api/v1/messages", { IDs: [m.ID], Read: true }).catch(() => {}); // as Mailpit does on open
  const tabs = [
    ["html", "HTML", m.HTML ? () => preview(m, false) : null],
    ["text", "Text", m.Text ? () => el("pre", { class: "text", text: m.Text }) : null],
    ["headers", "Headers", () => headers(m)],
    ["raw", "Raw", () => raw(m)],
    ["attachments", `Attachments (${m.Attachments.length + m.Inline.length})`, () => attachments(m)],
    ["envelope", `Envelope & checks${m.Flags.length + m.Defects.length ? ` (${m.Flags.length + m.Defects.length})` : ""}`, () => envelope(m)],
  ].filter(([, , make]) => make);
  const list = el("div", { role: "tablist", "aria-label": "Message views" });
  const panel = el("div", { role: "tabpanel", id: "panel", tabindex: "0" });
  const select = async (key) => {
    for (const b of list.children) b.setAttribute("aria-selected", b.dataset.key === key ? "true" : "false");
    panel.setAttribute("aria-labelledby", `tab-${key}`);
    const make = tabs.find(([k]) => k === key)[2];
    panel.replaceChildren(await make());
  };
  for (const [key, label] of tabs) {
    list.append(el("button", { type: "button", role: "tab", id: `tab-${key}`, "data-key": key, "aria-controls": "panel",
      text: label, onclick: () => select(key) }));
  }
  section.replaceChildren(
    el("h1", { text: m.Subject || "(no subject)" }),
    fields([
      ["From", address(m.From)], ["To", m.To.map(address).join(", ")], ["Cc", m.Cc.map(address).join(", ")],
      ["Bcc", m.Bcc.map(address).join(", ")], ["Reply-To", m.ReplyTo.map(address).join(", ")], ["Date", time(m.Date, true)],
    ]),
    el("div", { class: "actions" },
      el("a", { href: `/api/v1/message/${encodeURIComponent(m.ID)}/raw?dl=1`, download: `${m.ID}.eml`, text: "Download .eml" }),
      el("button", { type: "button", class: "danger", text: "Delete", onclick: () => onDelete(m.ID) })),
    list, panel);
  await select(tabs[0][0]);
  return m;
}
