"""The ``mailpit-api`` and ``mailhog`` npm clients, unchanged, against mail sent over SMTP.
mailpit-api: info, list, search, get (by id and latest), headers, raw and the attachment
byte-exact, read status, tags, send, its waitForMessage helper, chaos, delete. mailhog:
messages, search, latestTo, the attachment byte-exact, deleteMessage, deleteAll."""

from __future__ import annotations

import base64
import json
import subprocess

from tests.http.helpers import send
from tests.integration.clients import CLIENTS, missing, require

from mocksmtp import MockSMTPServer

PDF = b"%PDF-1.4 \x00\xff\x80"
RAW = (
    b"Subject: Quarterly report\r\nMessage-ID: <q@example.com>\r\n"
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=q.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(PDF) + b"\r\n--b--\r\n"
)


def test_the_mailpit_api_npm_client_works_unchanged(web: MockSMTPServer) -> None:
    """tests/clients/read-mailpit-api.mjs drives every call it makes; each answer is Mailpit's."""
    node = require("node", "Debian: apt-get install nodejs npm")
    if not (CLIENTS / "node_modules" / "mailpit-api").is_dir():
        missing(f"mailpit-api is not installed (cd {CLIENTS} && npm ci)")
    id = send(web, RAW)
    done = subprocess.run(
        [node, str(CLIENTS / "read-mailpit-api.mjs"), str(web.http_url), id],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert (out["info"], out["list"], out["search"]) == (1, [id], 1)
    assert (out["subject"], out["attachments"], out["latest"]) == ("Quarterly report", [["2", "q.pdf"]], id)
    assert out["headers"] == ["<q@example.com>"]
    assert base64.b64decode(out["raw"]) == RAW
    assert base64.b64decode(out["part"]) == PDF
    assert (out["read"], out["unread"], out["tags"], out["tagList"]) == ("ok", 1, "ok", ["npm"])
    assert out["waited"] == out["sent"]
    assert out["chaos"] == 0
    assert (out["deleted"], out["left"], out["deletedAll"], out["total"]) == ("ok", [out["sent"]], "ok", 0)


def test_the_mailhog_npm_client_works_unchanged(web: MockSMTPServer) -> None:
    """tests/clients/read-mailhog.js: messages, search (containing, to), latestTo with its
    decoded text and the attachment byte-exact, deleteMessage and deleteAll."""
    node = require("node", "Debian: apt-get install nodejs npm")
    if not (CLIENTS / "node_modules" / "mailhog").is_dir():
        missing(f"mailhog is not installed (cd {CLIENTS} && npm ci)")
    send(web, "From: Ann <ann@example.com>\r\nSubject: other\r\n\r\nnothing here\r\n", to=("bob@example.com",))
    send(web, b"From: Ann <ann@example.com>\r\nTo: carol@example.com\r\n" + RAW, to=("carol@example.com",))
    done = subprocess.run(
        [node, str(CLIENTS / "read-mailhog.js"), str(web.http_url), "carol@example.com"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert (out["total"], out["subjects"]) == (2, ["Quarterly report", "other"])
    assert out["from"] == ["Ann <ann@example.com>"] * 2
    assert (out["search"], out["searchTo"]) == (["Quarterly report"], 1)
    assert (out["latestSubject"], out["text"]) == ("Quarterly report", "hi")
    assert out["attachments"] == [["q.pdf", "application/pdf", "base64"]]
    assert base64.b64decode(out["pdf"]) == PDF
    assert (out["afterDelete"], out["afterDeleteAll"]) == (1, 0)
