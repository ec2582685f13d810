-- The MyPivot console's operators (people; API keys stay for machines), the enti each may
-- work on, their sessions and the journal of every change made through the console or the
-- REST API, with who made it.
CREATE TABLE operatore (
    username TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    ruoli TEXT NOT NULL,
    attivo BOOLEAN NOT NULL DEFAULT TRUE,
    -- The last TOTP step used: a code is accepted once.
    totp_ultimo_passo BIGINT NOT NULL DEFAULT 0,
    tentativi_falliti BIGINT NOT NULL DEFAULT 0,
    bloccato_fino TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
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
    completa BOOLEAN NOT NULL,
    scade_il TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessione_console_scadenza ON sessione_console (scade_il);

CREATE TABLE registro_modifiche (
    id BIGSERIAL PRIMARY KEY,
    quando TIMESTAMPTZ NOT NULL,
    chi TEXT NOT NULL,
    metodo TEXT NOT NULL,
    percorso TEXT NOT NULL,
    stato BIGINT NOT NULL
);
CREATE INDEX registro_modifiche_quando ON registro_modifiche (quando);
