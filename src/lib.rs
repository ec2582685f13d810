//! pagopa-gateway: a pagoPA intermediario tecnologico. See README.md for the architecture.

/// mimalloc for every binary built on this crate (the server, its tests and benchmarks
/// alike): under the Nodo's load glibc's malloc and free, with their arena locks and
/// consolidations, took about an eighth of a verification's CPU (docs/architettura.md, section 6).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod avviso;
pub mod bizevents_client;
pub mod checkout_client;
pub mod cli;
pub mod config;
pub mod digest;
pub mod dn;
pub mod dominio;
pub mod fdr_client;
pub mod gauges;
pub mod http_esterno;
pub mod http_observe;
pub mod identita;
pub mod jobs;
pub mod journal;
pub mod listener;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod node_client;
pub mod operatori;
pub mod outbox;
pub mod pa_server;
pub mod pagamenti;
pub mod pki;
pub mod recon;
pub mod registry;
pub mod rest;
pub mod retention;
pub mod riconciliazione;
/// The simulated pagoPA (Nodo, PSP, Checkout, FdR, treasury) and the demo: development and
/// tests only; a production build leaves it out (`--no-default-features`).
#[cfg(feature = "sim")]
pub mod sim;
pub mod soap;
pub mod store;
pub mod supervise;
pub mod tls;
pub mod web;
pub mod xml;
