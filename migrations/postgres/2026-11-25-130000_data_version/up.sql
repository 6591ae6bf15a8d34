-- One counter, raised in the same transaction as every change that can alter a view (figures
-- starting or stopping to count, organisation characteristics). Views cache their results per
-- version, so a new submission is visible the instant it commits, on every instance.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
