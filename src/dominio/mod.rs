//! The domain layer: what the gateway decides, with no I/O. Adapters (the PA SOAP endpoint,
//! the portal's REST API, the outbox jobs) read what they need, call these functions and
//! write the answer; the store persists what was decided, in one transaction.
//!
//! - [`posizione`]: whether a dovuto can be paid at a date, and for how much (late fee and
//!   interest);
//! - [`rpt`]: the RPT a payment attempt sends;
//! - [`ricevuta`]: what an RT does to its RPT, its dovuto and the receipts to reconcile;
//! - [`carrello`]: the cart rules and a cart's outcome;
//! - [`accesso`]: console operators' passwords, one-time codes and lockout;
//! - [`nuovo_modello`]: a position's transfers and a receipt read as an RT (paForNode).

pub mod accesso;
pub mod carrello;
pub mod nuovo_modello;
pub mod posizione;
pub mod ricevuta;
pub mod rpt;
