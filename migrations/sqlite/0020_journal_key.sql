-- The journal's (id_dominio, iuv) index is dropped on SQLite: no statement reads through it.
-- The journal search's optional filters (`$n IS NULL OR col = $n`) cannot use an index, so
-- SQLite plans the search as a scan whatever is bound, while every entry paid for it: an
-- insert at a random place of it, a 4 KiB page written to the WAL and checkpointed again
-- per entry (7-12 % of the verifications a saturated gateway served).
DROP INDEX IF EXISTS journal_key;
