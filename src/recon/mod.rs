//! MyPivot reconciliation store (issue 8, in progress). So far the pure rules: what a
//! treasury causale says (IUF / IUV), the giornale di cassa CSV reader, and the
//! classification of a joined tuple into the 13 codes + DOPPI. The store, imports, views and
//! exports build on them.

pub mod causale;
pub mod classifica;
pub mod giornale;
pub mod notifiche;
pub mod opi;
pub mod riconcilia;
