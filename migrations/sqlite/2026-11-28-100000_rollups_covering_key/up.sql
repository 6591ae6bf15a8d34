-- The roll-ups stored in key order (WITHOUT ROWID): a view of some periods of an indicator reads
-- contiguous pages instead of one page per row.
CREATE TABLE figure_rollups_keyed (
    organisation_id      BIGINT NOT NULL,
    indicator            TEXT NOT NULL,
    catalogue_version    TEXT NOT NULL,
    period_type          TEXT NOT NULL,
    period_start         DATE NOT NULL,
    period_end           DATE NOT NULL,
    municipality         TEXT NOT NULL,
    publication          TEXT NOT NULL,
    figures              BIGINT NOT NULL,
    value_sum            DOUBLE,
    numerator            BIGINT,
    denominator          BIGINT,
    respondents_weighted DOUBLE,
    respondents          BIGINT,
    cases_weighted       DOUBLE,
    cases                BIGINT,
    PRIMARY KEY (indicator, period_start, organisation_id, period_type, period_end,
                 catalogue_version, municipality, publication)
) WITHOUT ROWID;
INSERT INTO figure_rollups_keyed SELECT organisation_id, indicator, catalogue_version,
    period_type, period_start, period_end, municipality, publication, figures, value_sum,
    numerator, denominator, respondents_weighted, respondents, cases_weighted, cases
FROM figure_rollups;
DROP TABLE figure_rollups;
ALTER TABLE figure_rollups_keyed RENAME TO figure_rollups;
CREATE INDEX figure_rollups_organisation ON figure_rollups (organisation_id, period_start);
