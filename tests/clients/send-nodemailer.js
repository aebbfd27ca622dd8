// Send messages with nodemailer, each on a connection of its own, verifying the server's
// certificate against a CA file. Run by tests/integration/test_real_clients.py:
//
//   node send-nodemailer.js < job.json
//
// job.json: {"host", "port", "ca" (a PEM file), "secure" (true: implicit TLS; false:
// STARTTLS, required), "timeout" (ms), "messages": [{"from", "to": [...], "raw"}]}.
// Prints one line per message sent ("sent <response>"); on the first failure prints the
// error to stderr and exits with status 1.
"use strict";

const fs = require("node:fs");
const nodemailer = require("nodemailer");

async function main() {
  const job = JSON.parse(fs.readFileSync(0, "utf8"));
  const ca = fs.readFileSync(job.ca, "utf8");
  for (const message of job.messages) {
    const transport = nodemailer.createTransport({
      host: job.host,
      port: job.port,
      secure: job.secure,
      requireTLS: !job.secure,
      tls: { ca: [ca], rejectUnauthorized: true },
      connectionTimeout: job.timeout,
      greetingTimeout: job.timeout,
      socketTimeout: job.timeout,
    });
    try {
      const info = await transport.sendMail({
        envelope: { from: message.from, to: message.to },
        raw: Buffer.from(message.raw, "utf8"),
      });
      process.stdout.write(`sent ${info.response}\n`);
    } finally {
      transport.close();
    }
  }
}

main().catch((error) => {
  process.stderr.write(`nodemailer failed: ${error.stack || error}\n`);
  process.exit(1);
});
