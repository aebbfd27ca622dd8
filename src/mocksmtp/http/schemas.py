"""The JSON Schemas of what the HTTP API reads and answers, for its OpenAPI description
(:mod:`.openapi`): Mailpit's shapes (``mailpit.py``), MailHog's (``mailhog.py``) and ours.

Every field the code always writes is required, so a schema check catches a field that went
missing; objects stay open (a client must ignore a field it does not know).
"""

from __future__ import annotations

from typing import Any

__all__ = ["BOOLEAN", "COMPONENTS", "INTEGER", "STRING", "array", "obj", "ref"]

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
NUMBER: Schema = {"type": "number"}
TIME: Schema = {"type": "string", "format": "date-time"}


def ref(name: str) -> Schema:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(description: str = "", /, **properties: Schema) -> Schema:
    """An object with these properties, every one required."""
    schema: Schema = {"type": "object", "required": list(properties), "properties": properties}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _map_of(values: Schema) -> Schema:
    return {"type": "object", "additionalProperties": values}


_HEADING = {
    "ID": STRING,
    "MessageID": STRING,
    "Read": BOOLEAN,
    "From": _nullable(ref("Address")),
    "To": array(ref("Address")),
    "Cc": array(ref("Address")),
    "Bcc": array(ref("Address")),
    "ReplyTo": array(ref("Address")),
}

_MAILHOG_PATH = obj(
    "An envelope address as MailHog splits it.",
    Relays={"type": "null"},
    Mailbox=STRING,
    Domain=STRING,
    Params=STRING,
)

_MAILHOG_CONTENT = obj(
    "A header block (names as sent, values not decoded) and the body that follows it.",
    Headers=_map_of(array(STRING)),
    Body=STRING,
    Size=INTEGER,
    MIME={"type": "null"},
)

_MAILHOG_MIME = _nullable(obj("The top-level parts of a multipart message.", Parts=array(_MAILHOG_CONTENT)))

_WAIT = obj(
    "What the long-poll wait found: every match, oldest first (error: why it ended without enough).",
    timed_out=BOOLEAN,
    count=INTEGER,
    messages_count=INTEGER,
    total=INTEGER,
    messages=array(ref("MessageSummary")),
)
_WAIT["properties"]["error"] = STRING  # not required: only when it timed out or the server stopped

_RUNTIME_STATS = [
    "Uptime",
    "Memory",
    "MessagesDeleted",
    "SMTPAccepted",
    "SMTPAcceptedSize",
    "SMTPRejected",
    "SMTPIgnored",
]

_JIM = [
    "DisconnectChance",
    "AcceptChance",
    "LinkSpeedAffect",
    "LinkSpeedMin",
    "LinkSpeedMax",
    "RejectSenderChance",
    "RejectRecipientChance",
    "RejectAuthChance",
]

COMPONENTS: dict[str, Schema] = {
    "Address": obj(Name=STRING, Address=STRING),
    "MessageSummary": obj(
        "What a list shows of a message; Attachments is a count (inline parts not counted).",
        **_HEADING,
        Subject=STRING,
        Created=TIME,
        Username=STRING,
        Tags=array(STRING),
        Size=INTEGER,
        Attachments=INTEGER,
        Snippet={"type": "string", "maxLength": 250},
    ),
    "MessagesSummary": obj(
        "A page of summaries, newest first, with the mailbox's counts (Mailpit's snake_case envelope).",
        total=INTEGER,
        unread=INTEGER,
        count=INTEGER,
        messages_count=INTEGER,
        messages_unread=INTEGER,
        start=INTEGER,
        tags=array(STRING),
        messages=array(ref("MessageSummary")),
    ),
    "Attachment": obj(
        PartID=STRING,
        FileName=STRING,
        ContentType=STRING,
        ContentID=STRING,
        Size=INTEGER,
        Checksums=obj(MD5=STRING, SHA1=STRING, SHA256=STRING),
    ),
    "Message": obj(
        "Everything about one message.",
        **_HEADING,
        ReturnPath=STRING,
        Subject=STRING,
        ListUnsubscribe=obj(Header=STRING, HeaderPost=STRING, Links=array(STRING), Errors=STRING),
        Date=TIME,
        Tags=array(STRING),
        Username=STRING,
        Text=STRING,
        HTML=STRING,
        Size=INTEGER,
        Inline=array(ref("Attachment")),
        Attachments=array(ref("Attachment")),
    ),
    "Headers": _map_of(array(STRING)),
    "AppInformation": obj(
        Version=STRING,
        LatestVersion=STRING,
        Database=STRING,
        DatabaseSize=INTEGER,
        Messages=INTEGER,
        Unread=INTEGER,
        Tags=_map_of(INTEGER),
        RuntimeStats=obj(**dict.fromkeys(_RUNTIME_STATS, INTEGER)),
    ),
    "WebUIConfiguration": obj(
        Label=STRING,
        ChaosEnabled=BOOLEAN,
        DuplicatesIgnored=BOOLEAN,
        HideDeleteAllButton=BOOLEAN,
        SpamAssassin=BOOLEAN,
        MessageRelay=obj(
            Enabled=BOOLEAN,
            SMTPServer=STRING,
            AllowedRecipients=STRING,
            BlockedRecipients=STRING,
            OverrideFrom=STRING,
            PreserveMessageIDs=BOOLEAN,
            ReturnPath=STRING,
        ),
    ),
    "ChaosTrigger": obj(
        ErrorCode={"type": "integer", "minimum": 400, "maximum": 599},
        Probability={"type": "number", "minimum": 0, "maximum": 100},
    ),
    "ChaosTriggers": obj(Sender=ref("ChaosTrigger"), Recipient=ref("ChaosTrigger"), Authentication=ref("ChaosTrigger")),
    "SendRequest": {
        "type": "object",
        "required": ["From"],
        "properties": {
            "From": ref("SendAddress"),
            "To": array(ref("SendAddress")),
            "Cc": array(ref("SendAddress")),
            "ReplyTo": array(ref("SendAddress")),
            "Bcc": array(STRING),
            "Subject": STRING,
            "Text": STRING,
            "HTML": STRING,
            "Headers": _map_of(STRING),
            "Tags": array(STRING),
            "Attachments": array(
                {
                    "type": "object",
                    "required": ["Content", "Filename"],
                    "properties": {
                        "Content": {"type": "string", "contentEncoding": "base64"},
                        "Filename": STRING,
                        "ContentType": STRING,
                        "ContentID": STRING,
                    },
                }
            ),
        },
    },
    "SendAddress": {"type": "object", "required": ["Email"], "properties": {"Email": STRING, "Name": STRING}},
    "SendError": obj("Why nothing was sent, in one line.", Error=STRING),
    "MailHogMessage": obj(
        "One message in MailHog's v2 shape: the envelope, the content as sent, the raw transaction.",
        ID=STRING,
        From=_MAILHOG_PATH,
        To=array(_MAILHOG_PATH),
        Content={**_MAILHOG_CONTENT, "properties": {**_MAILHOG_CONTENT["properties"], "MIME": _MAILHOG_MIME}},
        Created=TIME,
        MIME=_MAILHOG_MIME,
        Raw=obj(From=STRING, To=array(STRING), Data=STRING, Helo=STRING),
    ),
    "MailHogPage": obj(
        "A page of MailHog messages, newest first.",
        total=INTEGER,
        count=INTEGER,
        start=INTEGER,
        items=array(ref("MailHogMessage")),
    ),
    "WaitAnswer": _WAIT,
    "Fault": obj(
        "A fault of the registry; code and message are null for a pure delay or a disconnect.",
        id=STRING,
        stage=STRING,
        code=_nullable(INTEGER),
        message=_nullable(STRING),
        match=_nullable(STRING),
        match_regex=_nullable(STRING),
        match_callable=_nullable(STRING),
        times=_nullable(INTEGER),
        remaining=_nullable(INTEGER),
        triggered=INTEGER,
        probability=NUMBER,
        delay=NUMBER,
        disconnect=BOOLEAN,
    ),
    "FaultRequest": {
        "type": "object",
        "required": ["stage"],
        "properties": {
            "stage": {"type": "string", "enum": ["connect", "helo", "auth", "mail", "rcpt", "data", "message"]},
            "code": INTEGER,
            "message": STRING,
            "match": STRING,
            "match_regex": STRING,
            "times": INTEGER,
            "probability": NUMBER,
            "delay": NUMBER,
            "disconnect": BOOLEAN,
        },
        "additionalProperties": False,
    },
    "Jim": obj("MailHog's chaos monkey settings.", **dict.fromkeys(_JIM, NUMBER)),
    "MessageRecord": obj(
        "A whole message: the raw bytes (base64) and the envelope.",
        id=STRING,
        mail_from=STRING,
        rcpt_tos=array(STRING),
        mail_options=array(STRING),
        peer=array({"type": ["string", "integer"]}),
        helo=STRING,
        received_at=TIME,
        tls=_nullable(STRING),
        auth_user=_nullable(STRING),
        flags=array(STRING),
        raw={"type": "string", "contentEncoding": "base64"},
    ),
    "MessageRecords": obj(
        "A page of whole messages, oldest first.",
        total=INTEGER,
        messages_count=INTEGER,
        start=INTEGER,
        messages=array(ref("MessageRecord")),
    ),
}
