DROP TABLE figure_rollups;
DROP TABLE indicator_versions;
ALTER TABLE data_version DROP COLUMN registry_version;
