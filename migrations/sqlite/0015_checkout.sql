-- A cart is sent to the Nodo (WISP, nodoInviaCarrelloRPT) or to pagoPA Checkout
-- (POST /carts): percorso WISP or CHECKOUT. A Checkout cart has no RPTs: its dovuti are
-- listed here, each settled by the new-model attempt (paGetPayment) and receipt of its
-- position.
ALTER TABLE carrello ADD COLUMN percorso TEXT NOT NULL DEFAULT 'WISP';
CREATE TABLE carrello_voce (
    id_carrello TEXT NOT NULL REFERENCES carrello (id),
    dovuto_id INTEGER NOT NULL REFERENCES dovuto (id),
    PRIMARY KEY (id_carrello, dovuto_id)
);
-- The newest new-model attempt of a dovuto, for the cart's outcome.
CREATE INDEX rpt_dovuto ON rpt (dovuto_id, origine);
