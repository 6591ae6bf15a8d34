DROP TABLE figure_rollup_years;
