DROP TABLE municipalities;
DROP TABLE provinces;
DROP TABLE indicators;
DROP TABLE transformation_goals;
DROP TABLE catalogue_versions;
