-- Year roll-ups: the roll-ups summed per organisation, indicator, catalogue version, calendar
-- year, period type and publication level, over municipalities and over the periods of that
-- type in that year: `periods` is how many distinct periods, `last_start` the latest one's
-- start. Views of whole years read these (a few hundred rows per indicator and year instead of
-- every quarter of every municipality), except for stocks and amounts, which take the last
-- period's figures rather than a sum. Kept with `figure_rollups` in the same transaction
-- (`rollups::refresh`), rebuilt and checked with them.
CREATE TABLE figure_rollup_years (
    organisation_id      BIGINT NOT NULL,
    indicator            TEXT NOT NULL,
    catalogue_version    TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    period_type          TEXT NOT NULL,
    publication          TEXT NOT NULL,
    periods              BIGINT NOT NULL,
    last_start           DATE NOT NULL,
    figures              BIGINT NOT NULL,
    value_sum            DOUBLE PRECISION,
    numerator            BIGINT,
    denominator          BIGINT,
    respondents_weighted DOUBLE PRECISION,
    respondents          BIGINT,
    cases_weighted       DOUBLE PRECISION,
    cases                BIGINT,
    PRIMARY KEY (indicator, year, organisation_id, catalogue_version, period_type, publication)
) WITHOUT ROWID; -- stored in key order: a view reads its indicator and years from contiguous pages
CREATE INDEX figure_rollup_years_organisation ON figure_rollup_years (organisation_id, year);

INSERT INTO figure_rollup_years
SELECT organisation_id, indicator, catalogue_version, CAST(strftime('%Y', period_start) AS INTEGER),
       period_type, publication, COUNT(DISTINCT period_start), MAX(period_start), SUM(figures),
       SUM(value_sum), SUM(numerator), SUM(denominator), SUM(respondents_weighted),
       SUM(respondents), SUM(cases_weighted), SUM(cases)
FROM figure_rollups
GROUP BY organisation_id, indicator, catalogue_version, CAST(strftime('%Y', period_start) AS INTEGER),
         period_type, publication;
