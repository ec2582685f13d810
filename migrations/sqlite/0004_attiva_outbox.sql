-- paaAttivaRPT keeps the PSP that will collect, for the nodoInviaRPT that follows.
ALTER TABLE rpt ADD COLUMN id_psp TEXT;
ALTER TABLE rpt ADD COLUMN id_intermediario_psp TEXT;
ALTER TABLE rpt ADD COLUMN id_canale TEXT;

-- Durable outbox: outbound work enqueued in the same transaction as the state change that
-- requires it (transactional outbox). Workers claim rows with a lease.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref_id INTEGER,
    payload TEXT NOT NULL DEFAULT '{}',
    stato TEXT NOT NULL DEFAULT 'PENDING' CHECK (stato IN ('PENDING', 'DONE', 'DEAD')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (stato, next_attempt_at);
