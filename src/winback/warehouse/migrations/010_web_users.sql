-- The web console's people and their traces (docs/web.md): users with a role and a row-level scope, sessions
-- (only a hash of each session token is stored), login attempts (for throttling), the audit log of every write,
-- export and phone reveal, and per-store API tokens for the tills.

CREATE TABLE users (
    username        VARCHAR PRIMARY KEY,
    role            VARCHAR NOT NULL,            -- hq_admin | analyst | store_manager | guide
    stores          VARCHAR[],                   -- store_manager: the stores he runs; guide: her store (optional)
    guide_id        VARCHAR,                     -- guide: her staff.guide_id (members.guide_id, tasks.guide_id)
    password_hash   VARCHAR NOT NULL,            -- Argon2id, PHC string
    created_at      TIMESTAMP NOT NULL,
    password_set_at TIMESTAMP NOT NULL,
    disabled_at     TIMESTAMP                    -- NULL = may log in
);

CREATE TABLE sessions (
    token_hash   VARCHAR PRIMARY KEY,            -- sha256 of the cookie's token (the token itself is never stored)
    username     VARCHAR NOT NULL,
    csrf_token   VARCHAR NOT NULL,               -- the double-submit token bound to this session
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ip           VARCHAR,
    user_agent   VARCHAR,
    revoked_at   TIMESTAMP
);

CREATE TABLE login_attempts (
    username VARCHAR NOT NULL,
    ip       VARCHAR,
    attempted_at TIMESTAMP NOT NULL,
    ok       BOOLEAN NOT NULL
);

CREATE SEQUENCE audit_log_seq START 1;

CREATE TABLE audit_log (
    audit_id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_seq'),
    logged_at TIMESTAMP NOT NULL,
    username VARCHAR NOT NULL,                   -- who ('cli:<os user>' for the users command)
    role     VARCHAR,
    action   VARCHAR NOT NULL,                   -- login | logout | user_add | phone_reveal | export | …
    target   VARCHAR,                            -- what: a member id, a user name, a campaign id
    detail   JSON,
    ip       VARCHAR                             -- from where
);

CREATE TABLE api_tokens (
    token_hash VARCHAR PRIMARY KEY,              -- sha256 of the bearer token
    store_id   VARCHAR NOT NULL,
    label      VARCHAR,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
