-- Throttling of failed token requests (POST /oauth/token), kept in the database so every
-- instance on one database sees the same counts. One row per (client id, address) pair, and
-- one per address with client_id '*' (no client id can be '*': ids are generated as bsc_...)
-- for the ceiling over all client ids. See src/auth/throttle.rs and the README.

CREATE TABLE auth_throttle (
    client_id        TEXT NOT NULL,
    address          TEXT NOT NULL,
    failures         BIGINT NOT NULL CHECK (failures >= 0),
    first_failure_at TIMESTAMP NOT NULL,
    last_failure_at  TIMESTAMP NOT NULL,
    blocked_until    TIMESTAMP,
    PRIMARY KEY (client_id, address)
);
-- For removing rows whose window has passed.
CREATE INDEX auth_throttle_last_failure ON auth_throttle (last_failure_at);
