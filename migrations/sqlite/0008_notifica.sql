-- Payments an ente's back office notifies, by IUD (MyPivot's input I).
CREATE TABLE notifica (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    id_dominio TEXT NOT NULL,
    iud TEXT NOT NULL,
    iuv TEXT,
    data_esecuzione TEXT NOT NULL,
    importo_cents INTEGER NOT NULL,
    tipo_dovuto TEXT NOT NULL,
    causale TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (id_dominio, iud)
);
