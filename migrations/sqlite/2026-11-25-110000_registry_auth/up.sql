-- Wijkteam organisations, the municipalities they serve, and API clients (OAuth2 client
-- credentials). Secrets are stored only as argon2 hashes.

CREATE TABLE organisations (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    name                   TEXT NOT NULL,
    kvk                    TEXT,
    team_type              TEXT NOT NULL CHECK (team_type IN ('wmo', 'jeugd', 'integraal')),
    org_form               TEXT NOT NULL,
    self_registration      BOOLEAN NOT NULL,
    provides_help_declared BOOLEAN,
    provides_help          BOOLEAN,
    provides_help_source   TEXT NOT NULL CHECK (provides_help_source IN ('figures', 'declared', 'unknown')),
    provides_help_share    DOUBLE,
    primary_municipality   TEXT NOT NULL,
    active                 BOOLEAN NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);

CREATE TABLE organisation_municipalities (
    organisation_id   INTEGER NOT NULL REFERENCES organisations (id),
    municipality_code TEXT NOT NULL,
    valid_from        DATE NOT NULL,
    valid_to          DATE,
    PRIMARY KEY (organisation_id, municipality_code, valid_from),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX organisation_municipalities_code ON organisation_municipalities (municipality_code);

CREATE TABLE api_clients (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('admin', 'associatie', 'team')),
    organisation_id   INTEGER REFERENCES organisations (id),
    secret_hash       TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    created_by        TEXT,
    secret_rotated_at TIMESTAMP NOT NULL,
    revoked_at        TIMESTAMP,
    CHECK ((role = 'team') = (organisation_id IS NOT NULL))
);
