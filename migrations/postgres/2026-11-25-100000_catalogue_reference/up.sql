-- The basisset catalogue (versioned) and the reference data (provinces, municipalities).
-- Loaded from data files in the repository at start-up; see src/catalogue and src/registry.

CREATE TABLE catalogue_versions (
    version     TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    released_on DATE NOT NULL,
    extends     TEXT REFERENCES catalogue_versions (version),
    checksum    TEXT NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);

CREATE TABLE transformation_goals (
    code        TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    label_nl    TEXT NOT NULL,
    label_en    TEXT NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE indicators (
    version                TEXT NOT NULL REFERENCES catalogue_versions (version),
    code                   TEXT NOT NULL,
    goal                   TEXT NOT NULL REFERENCES transformation_goals (code),
    kind                   TEXT NOT NULL,
    unit                   TEXT NOT NULL,
    direction              TEXT NOT NULL,
    period_types           TEXT NOT NULL,
    source                 TEXT NOT NULL,
    team_types             TEXT NOT NULL,
    label_nl               TEXT NOT NULL,
    label_en               TEXT NOT NULL,
    definition             TEXT NOT NULL,
    numerator_definition   TEXT,
    denominator_definition TEXT,
    counting_moment        TEXT NOT NULL,
    retired                BOOLEAN NOT NULL,
    PRIMARY KEY (version, code),
    CHECK (kind IN ('flow', 'stock', 'amount', 'ratio', 'survey', 'mean_duration'))
);

CREATE TABLE provinces (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE municipalities (
    year          INTEGER NOT NULL,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    population    BIGINT NOT NULL CHECK (population >= 0),
    size_class    TEXT NOT NULL CHECK (size_class IN ('klein', 'middelgroot', 'groot')),
    PRIMARY KEY (year, code)
);
