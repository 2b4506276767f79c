-- Saved searches of the web UI, per user: a view (events/dns, flows, ...)
-- and its query string (where=..., ip=...). A name is unique per user.
CREATE TABLE saved_searches (
    id        BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_name VARCHAR(255)  NOT NULL,
    name      VARCHAR(100)  NOT NULL,
    view      VARCHAR(64)   NOT NULL,
    query     TEXT          NOT NULL,
    created   BIGINT        NOT NULL,
    UNIQUE KEY saved_searches_user_name (user_name, name)
) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
