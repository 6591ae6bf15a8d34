-- Submissions: one organisation x one period, holding revisions; each revision holds figures.
-- Nothing is updated in place but workflow state: a correction is a new revision, a withdrawal
-- is a revision without figures. `counted_revision_id` names the revision views count (the
-- newest submitted or accepted one, unless withdrawn later); `figures.counted` mirrors it so
-- views read one index.

CREATE TABLE submissions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id     INTEGER NOT NULL REFERENCES organisations (id),
    period              TEXT NOT NULL,
    period_type         TEXT NOT NULL,
    period_start        DATE NOT NULL,
    period_end          DATE NOT NULL,
    latest_revision     INTEGER NOT NULL,
    counted_revision_id INTEGER,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, period)
);

CREATE TABLE submission_revisions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id     INTEGER NOT NULL REFERENCES submissions (id),
    revision          INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('figures', 'withdrawal')),
    catalogue_version TEXT NOT NULL REFERENCES catalogue_versions (version),
    publication       TEXT NOT NULL CHECK (publication IN ('associatie', 'openbaar')),
    status            TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'returned', 'withdrawn')),
    posted_by         TEXT NOT NULL,
    posted_at         TIMESTAMP NOT NULL,
    figure_count      INTEGER NOT NULL,
    warning_count     INTEGER NOT NULL,
    return_reason     TEXT,
    UNIQUE (submission_id, revision)
);

CREATE TABLE submission_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id INTEGER NOT NULL REFERENCES submissions (id),
    revision_id   INTEGER NOT NULL REFERENCES submission_revisions (id),
    action        TEXT NOT NULL CHECK (action IN ('posted', 'submitted', 'accepted', 'returned', 'withdrawn')),
    actor         TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    reason        TEXT
);
CREATE INDEX submission_events_submission ON submission_events (submission_id);

CREATE TABLE figures (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    revision_id       INTEGER NOT NULL REFERENCES submission_revisions (id),
    submission_id     INTEGER NOT NULL,
    organisation_id   INTEGER NOT NULL,
    period_type       TEXT NOT NULL,
    period_start      DATE NOT NULL,
    period_end        DATE NOT NULL,
    catalogue_version TEXT NOT NULL,
    indicator         TEXT NOT NULL,
    municipality      TEXT,
    value             DOUBLE,
    numerator         INTEGER,
    denominator       INTEGER,
    respondents       INTEGER,
    cases             INTEGER,
    note              TEXT,
    warnings          TEXT,
    publication       TEXT NOT NULL,
    counted           BOOLEAN NOT NULL
);
CREATE INDEX figures_revision ON figures (revision_id);
-- Views: one indicator, a range of periods, counted figures only.
CREATE INDEX figures_view ON figures (indicator, period_start) WHERE counted;
-- Plausibility checks and benchmarks: one organisation's own history.
CREATE INDEX figures_organisation ON figures (organisation_id, period_type, period_start) WHERE counted;

CREATE TABLE idempotency_keys (
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    submission_id   INTEGER NOT NULL REFERENCES submissions (id),
    revision_id     INTEGER NOT NULL REFERENCES submission_revisions (id),
    response        TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (organisation_id, key)
);
