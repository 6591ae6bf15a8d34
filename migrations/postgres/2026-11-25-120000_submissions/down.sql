DROP TABLE idempotency_keys;
DROP TABLE figures;
DROP TABLE submission_events;
DROP TABLE submission_revisions;
DROP TABLE submissions;
