// The inbox: one page of summaries, newest first, from the list or the search API.
import { address, api, el, send, size, status, time } from "./dom.js";

export const PAGE = 50; // index.html preloads the first page: keep its URL the same as url()

export class Inbox {
  constructor(onOpen) {
    this.onOpen = onOpen;
    this.query = "";
    this.start = 0;
    this.rows = [];
    this.total = 0;
    this.current = null;
    this.list = document.getElementById("list");
    this.loading = null;
    this.painted = false;
  }

  url() {
    const params = new URLSearchParams({ start: this.start, limit: PAGE });
    if (!this.query) return `/api/v1/messages?${params}`;
    params.set("query", this.query);
    params.set("tz", Intl.DateTimeFormat().resolvedOptions().timeZone);
    return `/api/v1/search?${params}`;
  }

  async load() {
    const token = (this.loading = {});
    let page;
    try {
      page = await api(this.url());
    } catch (e) {
      status(`Search failed: ${e.message}`);
      return;
    }
    if (token !== this.loading) return; // a newer load started
    status("");
    this.rows = page.messages;
    this.total = page.messages_count;
    this.unread = page.messages_unread;
    this.render();
  }

  render() {
    const items = this.rows.map((m) => this.row(m));
    this.list.replaceChildren(...items);
    document.getElementById("empty").hidden = this.rows.length > 0;
    const last = Math.min(this.start + this.rows.length, this.total);
    const what = this.query ? "matching" : "messages";
    document.getElementById("count").textContent =
      this.total ? `${this.start + 1}–${last} of ${this.total} ${what}, ${this.unread} unread` : `0 ${what}`;
    document.getElementById("prev").disabled = this.start === 0;
    document.getElementById("next").disabled = last >= this.total;
    document.getElementById("select-all").checked = false;
    if (!this.painted && this.rows.length) {
      this.painted = true;
      requestAnimationFrame(() => performance.mark("mocksmtp:first-rows"));
    }
  }

  row(m) {
    const to = m.To.map(address).join(", ");
    const meta = el("span", { class: "meta" },
      m.Attachments ? el("span", { class: "files", text: `${m.Attachments} file${m.Attachments > 1 ? "s" : ""}` }) : null,
      `${size(m.Size)} · `, time(m.Created));
    const check = el("input", { type: "checkbox", "aria-label": `Select “${m.Subject || "(no subject)"}”`,
      onclick: (event) => event.stopPropagation() });
    const li = el("li", {
      class: m.Read ? "row" : "row unread", "data-id": m.ID, "aria-current": m.ID === this.current ? "true" : "false",
      onclick: () => this.onOpen(m.ID),
    },
      check,
      el("span", { class: "who", title: to, text: `${address(m.From) || "(no sender)"} → ${to}` }),
      meta,
      el("a", { class: "subject", href: `#/m/${m.ID}`, text: m.Subject || "(no subject)",
        "aria-label": `${m.Read ? "" : "Unread: "}${m.Subject || "(no subject)"}` }),
      el("span", { class: "snippet", text: m.Snippet }),
    );
    return li;
  }

  highlight(id) {
    this.current = id;
    for (const li of this.list.children) {
      const on = li.dataset.id === id;
      li.setAttribute("aria-current", on ? "true" : "false");
      if (on) { li.classList.remove("unread"); li.scrollIntoView({ block: "nearest" }); }
    }
  }

  // The id next to the current one (+1 older, -1 newer), or null.
  neighbour(step) {
    const ids = this.rows.map((m) => m.ID);
    const at = ids.indexOf(this.current);
    const next = at < 0 ? (step > 0 ? 0 : -1) : at + step;
    return next >= 0 && next < ids.length ? ids[next] : null;
  }

  selected() {
    return [...this.list.querySelectorAll("input:checked")].map((box) => box.closest("li").dataset.id);
  }

  // A new message: shown at once on the first page of an unfiltered inbox, else the count grows.
  added(summary) {
    if (this.query) { this.load(); return; }
    this.total += 1;
    if (!summary.Read) this.unread += 1;
    if (this.start === 0) {
      this.rows = [summary, ...this.rows].slice(0, PAGE);
    }
    this.render();
  }

  async remove(ids) {
    if (ids.length) await send("DELETE", "/api/v1/messages", { IDs: ids });
  }

  async removeAll() {
    if (this.query) {
      await api(`/api/v1/search?${new URLSearchParams({ query: this.query })}`, { method: "DELETE" });
    } else {
      await send("DELETE", "/api/v1/messages", {});
    }
    this.start = 0;
  }

  async markRead(ids) {
    await send("PUT", "/api/v1/messages", ids.length ? { IDs: ids, Read: true } : { Search: this.query, Read: true });
  }
}
