-- The journal's (id_dominio, iuv) index stays on PostgreSQL, whose custom plans for the
-- journal search's optional filters use it (dropped on SQLite, where nothing did; see
-- migrations/sqlite/0020). Kept as a migration so both backends count the same versions.
SELECT 1;
