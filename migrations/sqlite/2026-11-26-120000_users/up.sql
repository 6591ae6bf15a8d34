-- People (beside API clients): accounts of wijkteam staff, the Associatie and admins, their
-- one-time invitation links and their server-side sessions. Only hashes of passwords (argon2id),
-- invitation tokens and session ids are stored (SHA-256 for the random tokens).

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    email               TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'associatie', 'team')),
    organisation_id     INTEGER REFERENCES organisations (id),
    coordinator         BOOLEAN NOT NULL,
    password_hash       TEXT,
    totp_secret         TEXT,
    totp_pending_secret TEXT,
    totp_last_step      BIGINT,
    active              BOOLEAN NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    created_by          TEXT NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    last_sign_in_at     TIMESTAMP,
    CHECK ((role = 'team') = (organisation_id IS NOT NULL)),
    CHECK (NOT coordinator OR role = 'team')
);

CREATE TABLE user_invitations (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX user_invitations_user ON user_invitations (user_id);

CREATE TABLE user_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('second_factor', 'enrol', 'full')),
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
