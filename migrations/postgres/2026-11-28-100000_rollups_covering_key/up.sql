-- The roll-ups' key carries every column (INCLUDE): a view of some periods of an indicator reads
-- them with an index-only scan of contiguous index pages instead of visiting one table page per
-- row (the rows of one period lie wherever their organisations' submissions put them).
ALTER TABLE figure_rollups DROP CONSTRAINT figure_rollups_pkey;
ALTER TABLE figure_rollups ADD CONSTRAINT figure_rollups_pkey
    PRIMARY KEY (indicator, period_start, organisation_id, period_type, period_end,
                 catalogue_version, municipality, publication)
    INCLUDE (figures, value_sum, numerator, denominator, respondents_weighted, respondents,
             cases_weighted, cases);
ANALYZE figure_rollups;
