ALTER TABLE figure_rollups DROP CONSTRAINT figure_rollups_pkey;
ALTER TABLE figure_rollups ADD CONSTRAINT figure_rollups_pkey
    PRIMARY KEY (indicator, period_start, organisation_id, period_type, period_end,
                 catalogue_version, municipality, publication);
