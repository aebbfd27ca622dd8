// Drive mocksmtp's HTTP API with the mailpit-api npm client, unchanged: argv[2] is the base
// URL, argv[3] the id of a message with a PDF attachment (part 2) sent over SMTP. Prints one
// JSON object with what each call returned, for tests/http/test_npm_clients.py to check.
import { MailpitClient } from "mailpit-api";

const mailpit = new MailpitClient(process.argv[2]);
const id = process.argv[3];
const out = {};
out.info = (await mailpit.getInfo()).Messages;
out.list = (await mailpit.listMessages()).messages.map((m) => m.ID);
out.search = (await mailpit.searchMessages({ query: 'subject:"quarterly report"' })).messages_count;
const message = await mailpit.getMessageSummary(id);
out.subject = message.Subject;
out.attachments = message.Attachments.map((a) => [a.PartID, a.FileName]);
out.latest = (await mailpit.getMessageSummary()).ID;
out.headers = (await mailpit.getMessageHeaders(id))["Message-Id"];
out.raw = Buffer.from(await mailpit.getMessageSource(id)).toString("base64");
const part = await mailpit.getMessageAttachment(id, "2");
out.part = Buffer.from(await part.arrayBuffer()).toString("base64");
out.read = await mailpit.setReadStatus({ IDs: [id], Read: false });
out.unread = (await mailpit.listMessages()).unread;
out.tags = await mailpit.setTags({ IDs: [id], Tags: ["npm"] });
out.tagList = await mailpit.getTags();
out.sent = (await mailpit.sendMessage({ From: { Email: "npm@example.com" }, To: [{ Email: "ann@example.com" }],
  Subject: "from npm", Text: "hi" })).ID;
out.waited = (await mailpit.waitForMessage({ query: "subject:npm" })).ID;
out.chaos = (await mailpit.getChaosTriggers()).Recipient.Probability;
out.deleted = await mailpit.deleteMessages({ IDs: [id] });
out.left = (await mailpit.listMessages()).messages.map((m) => m.ID);
out.deletedAll = await mailpit.deleteMessages();
out.total = (await mailpit.listMessages()).total;
console.log(JSON.stringify(out));
