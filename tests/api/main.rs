//! Integration tests: one binary (link once). Every test touching the database runs on
//! SQLite and on PostgreSQL, as `<test>::sqlite` and `<test>::postgres`.

mod helpers;

mod accertamenti;
mod bizevents;
mod carrello;
mod checkout;
mod cli;
mod concurrency;
mod conformance;
mod console;
mod crash;
mod demo;
mod dovuti;
mod enti;
mod fakes;
mod fdr;
mod flussi;
mod hostile;
mod import;
mod isolation;
mod journal;
mod node_client;
mod nuovo_modello;
mod openapi;
mod outbox;
mod pa_attiva;
mod pa_invia_rt;
mod pa_verifica;
mod portale;
mod proxy;
mod recupero;
mod riconciliazione;
mod server;
mod stalls;
mod statistiche;
mod system;
mod tesoreria;
mod xsd;
