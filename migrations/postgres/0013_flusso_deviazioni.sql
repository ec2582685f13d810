-- The sending PSP of a flow, and the schema facets it breaks but that were read leniently
-- (model::flusso::Deviazione, `; `-separated): an operator sees which PSP sends what.
ALTER TABLE flusso ADD COLUMN psp TEXT;
ALTER TABLE flusso ADD COLUMN deviazioni TEXT;
