-- The MyPivot console's operators (people; API keys stay for machines), the enti each may
-- work on, their sessions and the journal of every change made through the console or the
-- REST API, with who made it.
CREATE TABLE operatore (
    username TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    ruoli TEXT NOT NULL,
    attivo INTEGER NOT NULL DEFAULT 1,
    -- The last TOTP step used: a code is accepted once.
    totp_ultimo_passo INTEGER NOT NULL DEFAULT 0,
    tentativi_falliti INTEGER NOT NULL DEFAULT 0,
    bloccato_fino TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE operatore_ente (
    username TEXT NOT NULL REFERENCES operatore (username) ON DELETE CASCADE,
    id_dominio TEXT NOT NULL REFERENCES ente (id_dominio),
    PRIMARY KEY (username, id_dominio)
);

-- Only the token's SHA-256 is kept. `completa`: the one-time code was given too.
CREATE TABLE sessione_console (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES operatore (username) ON DELETE CASCADE,
    completa INTEGER NOT NULL,
    scade_il TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX sessione_console_scadenza ON sessione_console (scade_il);

CREATE TABLE registro_modifiche (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quando TEXT NOT NULL,
    chi TEXT NOT NULL,
    metodo TEXT NOT NULL,
    percorso TEXT NOT NULL,
    stato INTEGER NOT NULL
);
CREATE INDEX registro_modifiche_quando ON registro_modifiche (quando);
