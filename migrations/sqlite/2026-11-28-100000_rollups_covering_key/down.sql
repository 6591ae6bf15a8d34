-- Kept in key order: nothing to undo that changes what the table holds.
SELECT 1;
