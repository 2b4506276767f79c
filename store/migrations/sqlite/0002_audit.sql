-- Audit trail of the web UI and API: who logged in (or failed to), logged
-- out, acknowledged or unacknowledged an alert, from where and when.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    ts        BIGINT  NOT NULL,            -- Unix nanoseconds
    action    TEXT    NOT NULL,            -- login, login_failed, logout, acknowledge, unacknowledge
    user_name TEXT    NOT NULL DEFAULT '', -- as given (failed logins: the name tried)
    role      TEXT    NOT NULL DEFAULT '', -- viewer or analyst
    client    TEXT    NOT NULL DEFAULT '', -- client address
    target    TEXT    NOT NULL DEFAULT ''  -- what was acted on (alert id)
);
CREATE INDEX audit_ts ON audit (ts, id);
