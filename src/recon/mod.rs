//! MyPivot's reconciliation (docs/riconciliazione.md), pure: readers of every input
//! (treasury causale, giornale di cassa CSV / XLS / OPI / Poste statement, notifications,
//! MyPay "export pagati"), the classification into the 13 codes + DOPPI, the engine that
//! builds and classifies the joined tuples of a set of owners (`motore`, materialized by
//! the store and recomputed per import), the line views read and the export tracciati. The
//! services that read the store (views, exports, the worker) are `crate::riconciliazione`.

pub mod accertamenti;
pub mod causale;
pub mod classifica;
pub mod export;
pub mod giornale;
pub mod motore;
pub mod notifiche;
pub mod opi;
pub mod pagati;
pub mod poste;
pub mod riga;
pub mod statistiche;
pub mod xls;
