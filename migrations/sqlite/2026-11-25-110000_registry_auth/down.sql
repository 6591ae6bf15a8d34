DROP TABLE api_clients;
DROP TABLE organisation_municipalities;
DROP TABLE organisations;
