-- Stale statistics days as marks that are only ever added, never upserted: a receipt
-- marks its day with a row of its own. With one row per (ente, day), a receipt of a day
-- whose mark the refresh had just deleted waited on the primary key for the refresh to
-- commit, and a receipt finding the mark still there added none: a refresh that took that
-- mark before the receipt committed recomputed the day without it, and nothing marked it
-- again.
-- The refresh deletes the marks it sees and recomputes their days; a mark added meanwhile
-- is invisible to its DELETE and stays for the next refresh.
ALTER TABLE statistica_sporca DROP CONSTRAINT statistica_sporca_pkey;
CREATE INDEX statistica_sporca_giorno ON statistica_sporca (id_dominio, giorno);
