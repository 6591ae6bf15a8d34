-- Finer invalidation of cached views. `data_version.version` is still raised by every change (it
-- tags HTTP responses); beside it the version at which the registry (organisations and their
-- characteristics) last changed, and per indicator and year the version at which its counted
-- figures last changed. A view of one indicator and some years stays valid while neither its
-- years nor the registry move; a submission touches only its own indicators and year.
ALTER TABLE data_version ADD COLUMN registry_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE indicator_versions (
    indicator TEXT NOT NULL,
    year      INTEGER NOT NULL,
    version   BIGINT NOT NULL,
    PRIMARY KEY (indicator, year)
);
CREATE INDEX indicator_versions_version ON indicator_versions (version);

-- Roll-ups: the counted figures, summed per organisation, indicator, catalogue version, period,
-- municipality ('' for none) and publication level, with exactly the components pooling needs.
-- Kept in the same transaction as every change of what counts (`rollups::refresh`), rebuilt by
-- `basisset rollup rebuild`, checked equal to a recomputation by `basisset rollup check`.
-- Views read these, never the raw figures.
CREATE TABLE figure_rollups (
    organisation_id      BIGINT NOT NULL,
    indicator            TEXT NOT NULL,
    catalogue_version    TEXT NOT NULL,
    period_type          TEXT NOT NULL,
    period_start         DATE NOT NULL,
    period_end           DATE NOT NULL,
    municipality         TEXT NOT NULL,
    publication          TEXT NOT NULL,
    figures              BIGINT NOT NULL,
    value_sum            DOUBLE PRECISION,
    numerator            BIGINT,
    denominator          BIGINT,
    respondents_weighted DOUBLE PRECISION,
    respondents          BIGINT,
    cases_weighted       DOUBLE PRECISION,
    cases                BIGINT,
    PRIMARY KEY (indicator, period_start, organisation_id, period_type, period_end,
                 catalogue_version, municipality, publication)
);
CREATE INDEX figure_rollups_organisation ON figure_rollups (organisation_id, period_start);

INSERT INTO figure_rollups
SELECT organisation_id, indicator, catalogue_version, period_type, period_start, period_end,
       COALESCE(municipality, ''), publication, COUNT(*), SUM(value),
       SUM(numerator), SUM(denominator), SUM(value * respondents), SUM(respondents),
       SUM(value * cases), SUM(cases)
FROM figures WHERE counted
GROUP BY organisation_id, indicator, catalogue_version, period_type, period_start, period_end,
         COALESCE(municipality, ''), publication;
