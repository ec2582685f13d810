-- paGetPayment looks for a multi-beneficiary position's other shares by IUV alone, across
-- enti: every other index on dovuto leads with id_dominio, so without this one each
-- paGetPayment read the whole table.
CREATE INDEX dovuto_iuv ON dovuto (iuv);
