-- Catalogue v2: every indicator of a version after v1 names its source (the study with line and
-- page, or a named external source), and says whether figures of different organisations may be
-- added up (not for distinct residents or households, nor for amounts per resident).
-- Rows written before this migration (v1) have no reference and are additive, as v1 defined them.
ALTER TABLE indicators ADD COLUMN reference TEXT;
ALTER TABLE indicators ADD COLUMN additive BOOLEAN NOT NULL DEFAULT TRUE;
