// The page: routes (#/, #/m/ID, #/server), live events, keyboard, and the inbox's buttons.
import { status } from "./dom.js";
import { Inbox } from "./inbox.js";
import { showMessage } from "./message.js";
import { showServer } from "./server.js";

const $ = (id) => document.getElementById(id);
const inbox = new Inbox((id) => { location.hash = `#/m/${id}`; });

async function route() {
  const hash = location.hash;
  const view = $("view");
  const server = $("server");
  document.body.classList.toggle("reading", hash.startsWith("#/m/") || hash === "#/server");
  view.hidden = !hash.startsWith("#/m/");
  server.hidden = hash !== "#/server";
  $("hint").hidden = !view.hidden || !server.hidden;
  try {
    if (hash.startsWith("#/m/")) {
      const id = decodeURIComponent(hash.slice(4));
      inbox.highlight(id);
      await showMessage(view, id, removeOne);
    } else if (hash === "#/server") {
      await showServer(server);
    } else {
      inbox.highlight(null);
    }
  } catch (e) {
    status(e.message);
  }
}

async function removeOne(id) {
  const next = inbox.neighbour(1) || inbox.neighbour(-1);
  await inbox.remove([id]);
  location.hash = next && next !== id ? `#/m/${next}` : "#/";
}

function step(by) {
  const id = inbox.neighbour(by);
  if (id) location.hash = `#/m/${id}`;
}

function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/events`);
  let reload = null;
  const later = () => { clearTimeout(reload); reload = setTimeout(() => inbox.load(), 100); };
  socket.addEventListener("message", (event) => {
    const { Type, Data } = JSON.parse(event.data);
    if (Type === "new") inbox.added(Data);
    else if (Type === "delete" || Type === "truncate" || Type === "update") later();
  });
  socket.addEventListener("close", () => { status("Live updates lost: reconnecting…"); setTimeout(() => { connect(); inbox.load(); }, 1000); });
  socket.addEventListener("open", () => status(""));
}

document.addEventListener("keydown", (event) => {
  const typing = event.target.matches("input, select, textarea");
  if (event.key === "Escape") {
    if (typing) event.target.blur();
    else location.hash = "#/";
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/") { event.preventDefault(); $("q").focus(); }
  else if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); step(1); }
  else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); step(-1); }
  else if (event.key === "Delete" && inbox.current) { event.preventDefault(); removeOne(inbox.current); }
});

let typed = null;
$("q").addEventListener("input", () => {
  clearTimeout(typed);
  typed = setTimeout(() => { inbox.query = $("q").value.trim(); inbox.start = 0; inbox.load(); }, 150);
});
$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typed);
  inbox.query = $("q").value.trim();
  inbox.start = 0;
  inbox.load();
});
$("prev").addEventListener("click", () => { inbox.start = Math.max(0, inbox.start - 50); inbox.load(); });
$("next").addEventListener("click", () => { inbox.start += 50; inbox.load(); });
$("select-all").addEventListener("change", (event) => {
  for (const box of $("list").querySelectorAll("input")) box.checked = event.target.checked;
});
$("mark-read").addEventListener("click", async () => { await inbox.markRead(inbox.selected()); await inbox.load(); });
$("delete-selected").addEventListener("click", async () => {
  const ids = inbox.selected();
  if (!ids.length) { status("Select messages first (or use Delete all)."); return; }
  await inbox.remove(ids);
  await inbox.load();
});
$("delete-all").addEventListener("click", async () => {
  const what = inbox.query ? `every message matching “${inbox.query}”` : "every message";
  if (!confirm(`Delete ${what}?`)) return;
  await inbox.removeAll();
  location.hash = "#/";
  await inbox.load();
});
window.addEventListener("hashchange", route);

connect();
inbox.load().then(route);
