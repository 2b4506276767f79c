-- Saved searches of the web UI, per user: a view (events/dns, flows, ...)
-- and its query string (where=..., ip=...). A name is unique per user.
CREATE TABLE saved_searches (
    id INTEGER PRIMARY KEY,
    user_name TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    view      TEXT    NOT NULL,
    query     TEXT    NOT NULL DEFAULT '',
    created   BIGINT  NOT NULL,            -- Unix nanoseconds
    UNIQUE (user_name, name)
);
