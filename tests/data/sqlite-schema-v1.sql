-- The layout of mocksmtp's SQLite files at schema version 1 (PRAGMA user_version = 1),
-- kept to test that such files are migrated when opened.
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,            -- arrival order
    id TEXT NOT NULL UNIQUE,
    mail_from TEXT NOT NULL,
    rcpt_tos TEXT NOT NULL,             -- JSON list
    mail_options TEXT NOT NULL,         -- JSON list
    peer_host TEXT NOT NULL,
    peer_port INTEGER NOT NULL,
    helo TEXT NOT NULL,
    tls TEXT,
    auth_user TEXT,
    received REAL NOT NULL,             -- seconds since the epoch
    size INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    indexed INTEGER NOT NULL DEFAULT 0, -- whether the columns below are filled (sqlsearch.py)
    subject TEXT NOT NULL DEFAULT '',
    date REAL,                          -- the Date header, seconds since the epoch
    message_id TEXT NOT NULL DEFAULT '',  -- without angle brackets
    attachments INTEGER NOT NULL DEFAULT 0,
    inline INTEGER NOT NULL DEFAULT 0,
    snippet TEXT NOT NULL DEFAULT '',
    subject_fold TEXT NOT NULL DEFAULT '',
    message_id_fold TEXT NOT NULL DEFAULT '',
    text_fold TEXT NOT NULL DEFAULT ''  -- what bare words search, folded, one field a line
);
CREATE INDEX messages_received ON messages (received);
CREATE INDEX messages_unindexed ON messages (seq) WHERE indexed = 0;
CREATE TABLE raw (
    seq INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    raw BLOB NOT NULL
);
CREATE TABLE addresses (
    seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    field TEXT NOT NULL,                -- from, to, cc, bcc, reply-to
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    address_exact TEXT NOT NULL,        -- casefolded: whole-address terms compare to it
    name_fold TEXT NOT NULL,
    address_fold TEXT NOT NULL
);
CREATE INDEX addresses_exact ON addresses (address_exact);
CREATE INDEX addresses_seq ON addresses (seq);
CREATE TABLE tags (
    seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    tag_fold TEXT NOT NULL,
    PRIMARY KEY (seq, tag)
);
CREATE INDEX tags_fold ON tags (tag_fold);
