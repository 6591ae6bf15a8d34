ALTER TABLE indicators DROP COLUMN additive;
ALTER TABLE indicators DROP COLUMN reference;
