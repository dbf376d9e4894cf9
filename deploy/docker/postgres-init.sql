-- One database per service, owned by the application role (POSTGRES_USER, "forbedring").
-- The postgres image runs this once, when it initialises an empty data directory
-- (mounted into /docker-entrypoint-initdb.d). Each service creates its own tables with
-- its Alembic migrations at start.
CREATE DATABASE forbedring_survey OWNER forbedring;
CREATE DATABASE forbedring_aggregation OWNER forbedring;
CREATE DATABASE forbedring_publication OWNER forbedring;
CREATE DATABASE forbedring_actionplan OWNER forbedring;
CREATE DATABASE forbedring_notification OWNER forbedring;
