//! MyPivot reconciliation store (issue 8, in progress): so far the pure rules that read a
//! treasury line's causale. Imports, the classification engine, views and exports build on
//! them.

pub mod causale;
pub mod giornale;
