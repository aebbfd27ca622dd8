// Drive mocksmtp's HTTP API with the mailhog npm client, unchanged: argv[2] is the base URL,
// argv[3] the address the message with the PDF attachment was sent to. Prints one JSON
// object with what each call returned, for tests/http/test_npm_clients.py to check.
"use strict";
const mailhog = require("mailhog");

async function main() {
  const url = new URL(process.argv[2]);
  const api = mailhog({ host: url.hostname, port: Number(url.port) });
  const out = {};
  const all = await api.messages();
  out.total = all.total;
  out.subjects = all.items.map((m) => m.subject);
  out.from = all.items.map((m) => m.from);
  out.search = (await api.search("quarterly", "containing")).items.map((m) => m.subject);
  out.searchTo = (await api.search(process.argv[3], "to")).count;
  const latest = await api.latestTo(process.argv[3]);
  out.latestSubject = latest.subject;
  out.text = latest.text;
  out.attachments = latest.attachments.map((a) => [a.name, a.type, a.encoding]);
  out.pdf = Buffer.from(latest.attachments[0].Body, latest.attachments[0].encoding).toString("base64");
  await api.deleteMessage(all.items[all.items.length - 1].ID);
  out.afterDelete = (await api.messages()).total;
  await api.deleteAll();
  out.afterDeleteAll = (await api.messages()).total;
  console.log(JSON.stringify(out));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
