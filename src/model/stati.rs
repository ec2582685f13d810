//! The protocol's states and kinds as enums: the RT's esito, the states of a received RT,
//! of an RPT and of a cart, the outbox's job kinds and states. Each is mapped to the text
//! the database stores in one place (`as_str` / `parse`, and `TryFrom<String>` for rows);
//! where the state machine matters, `can_become` says which moves are allowed.

use super::ParseError;

/// A unit enum stored as text: `as_str`, `parse`, `TryFrom<String>`, `Display`, serde and
/// the OpenAPI schema (named `$schema`, an enum of the same literals) all use one literal.
macro_rules! stato_testuale {
    (
        $(#[$m:meta])*
        pub enum $t:ident as $schema:literal {
            $($(#[$vm:meta])* $v:ident => $s:literal,)+
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $t {
            $($(#[$vm])* #[serde(rename = $s)] $v,)+
        }

        impl $t {
            pub const TUTTI: &'static [$t] = &[$($t::$v,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $s,)+
                }
            }

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                match s {
                    $($s => Ok($t::$v),)+
                    _ => Err(ParseError::new(format!(
                        concat!(stringify!($t), " sconosciuto: '{}'"),
                        s
                    ))),
                }
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $t {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                Self::parse(&s)
            }
        }

        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($s,)+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $t {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($schema)
            }
        }
    };
}

/// codiceEsitoPagamento of an RT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EsitoPagamento {
    /// 0: the payment was made.
    Eseguito,
    /// 1: nothing was paid.
    NonEseguito,
    /// 2: some of the RPT's versamenti were paid.
    ParzialmenteEseguito,
    /// 3: the attempt expired unpaid.
    DecorrenzaTermini,
    /// 4: the attempt expired with some versamenti paid.
    DecorrenzaTerminiParziale,
}

impl EsitoPagamento {
    pub fn da_codice(c: u8) -> Result<Self, ParseError> {
        Ok(match c {
            0 => Self::Eseguito,
            1 => Self::NonEseguito,
            2 => Self::ParzialmenteEseguito,
            3 => Self::DecorrenzaTermini,
            4 => Self::DecorrenzaTerminiParziale,
            _ => {
                return Err(ParseError::new(format!(
                    "codiceEsitoPagamento {c} non previsto (da 0 a 4)"
                )));
            }
        })
    }

    pub fn codice(self) -> u8 {
        match self {
            Self::Eseguito => 0,
            Self::NonEseguito => 1,
            Self::ParzialmenteEseguito => 2,
            Self::DecorrenzaTermini => 3,
            Self::DecorrenzaTerminiParziale => 4,
        }
    }

    /// The RT attests money collected. Every RPT this gateway writes carries one
    /// versamento, so a partial esito (2) on it can only mean that versamento was paid:
    /// 0 and 2 are paid, for the dovuto, the cart, the receipt e-mail and reconciliation
    /// alike. (A 2 is flagged on the RT, see `dominio::ricevuta`.) Esito 4 is a
    /// decorrenza termini: the attempt is closed unpaid, like 1 and 3.
    pub fn positivo(self) -> bool {
        matches!(self, Self::Eseguito | Self::ParzialmenteEseguito)
    }
}

stato_testuale! {
    /// A received RT (`rt_ricevuta.stato`). Stored raw (RICEVUTA) and applied (ELABORATA, or
    /// ANOMALA when its amounts do not add up), in one transaction or two; held because no
    /// RPT matches (QUARANTENA) or refused (INVALIDA).
    pub enum StatoRt as "StatoRt" {
        Ricevuta => "RICEVUTA",
        Elaborata => "ELABORATA",
        Anomala => "ANOMALA",
        Quarantena => "QUARANTENA",
        Invalida => "INVALIDA",
    }
}

impl StatoRt {
    /// Applied: a re-delivery is a duplicate.
    pub fn applicata(self) -> bool {
        matches!(self, Self::Elaborata | Self::Anomala)
    }

    pub fn can_become(self, to: StatoRt) -> bool {
        use StatoRt::*;
        match (self, to) {
            // Read and applied, held, or refused.
            (Ricevuta, Elaborata | Anomala | Quarantena | Invalida) => true,
            // The RPT arrived later (recovery), or the quarantined RT is unreadable after all.
            (Quarantena, Elaborata | Anomala | Quarantena | Invalida) => true,
            // A new delivery replaces an RT that could not be read.
            (Invalida, Ricevuta) => true,
            _ => false,
        }
    }
}

stato_testuale! {
    /// An RPT (`rpt.stato`).
    pub enum StatoRpt as "StatoRpt" {
        /// Stored with its send job (paaAttivaRPT, or a portal cart).
        Creata => "CREATA",
        /// Accepted by the Nodo.
        Inviata => "INVIATA",
        /// Refused by the Nodo for good.
        RifiutataNodo => "RIFIUTATA_NODO",
        /// Its RT was applied.
        RtRicevuta => "RT_RICEVUTA",
        /// The activation expired without an RT.
        Scaduta => "SCADUTA",
        /// The Nodo closed it without an RT it could give us.
        ChiusaKo => "CHIUSA_KO",
    }
}

stato_testuale! {
    /// How an attempt row (`rpt.origine`) came to be.
    pub enum OrigineRpt as "OrigineRpt" {
        /// paaAttivaRPT (SANP 2, payment started at a PSP): an RPT we send.
        Attiva => "ATTIVA",
        /// A portal cart (WISP): an RPT we send.
        Portale => "PORTALE",
        /// paGetPayment (new model): no RPT, the Nodo holds the payment; `xml` keeps the
        /// payment data we answered. Settled by a paSendRT.
        NuovoModello => "NUOVO_MODELLO",
    }
}

impl StatoRpt {
    pub fn can_become(self, to: StatoRpt) -> bool {
        use StatoRpt::*;
        match (self, to) {
            (Creata, Inviata | RifiutataNodo | Scaduta) => true,
            // The Nodo does not know a sent RPT: it is sent again.
            (Inviata, Creata | Scaduta | ChiusaKo) => true,
            (RifiutataNodo, Scaduta) => true,
            // An RT settles the RPT whatever happened before: money was collected.
            (Creata | Inviata | RifiutataNodo | Scaduta | ChiusaKo, RtRicevuta) => true,
            _ => false,
        }
    }

    /// The states from which `to` may be reached (for a compare-and-set update).
    pub fn verso(to: StatoRpt) -> Vec<StatoRpt> {
        Self::TUTTI
            .iter()
            .copied()
            .filter(|s| s.can_become(to))
            .collect()
    }
}

stato_testuale! {
    /// A cart (`carrello.stato`). In the API schema `StatoInvioCarrello`, as the portal's
    /// `StatoCarrello` is the cart's outcome.
    pub enum StatoCarrello as "StatoInvioCarrello" {
        /// Stored, its send not (yet) accepted.
        Creato => "CREATO",
        /// Accepted by the Nodo: the payer was given its URL.
        Inviato => "INVIATO",
        /// Refused by the Nodo for good.
        Rifiutato => "RIFIUTATO",
    }
}

impl StatoCarrello {
    pub fn can_become(self, to: StatoCarrello) -> bool {
        use StatoCarrello::*;
        // A sent cart the Nodo does not know is sent again.
        matches!(
            (self, to),
            (Creato, Inviato | Rifiutato) | (Inviato, Creato)
        )
    }
}

stato_testuale! {
    /// A cart's outcome as the portal shows it (see `dominio::carrello::esito`); in the API
    /// schema `EsitoPagamentoCarrello` (`EsitoCarrello` is the checkout's answer).
    pub enum EsitoCarrello as "EsitoPagamentoCarrello" {
        InCorso => "IN_CORSO",
        Pagato => "PAGATO",
        NonPagato => "NON_PAGATO",
        /// Some of its RPTs paid, others not.
        ParzialmentePagato => "PARZIALMENTE_PAGATO",
        /// The Nodo refused the cart.
        Rifiutato => "RIFIUTATO",
    }
}

stato_testuale! {
    /// What an outbox job does (`outbox.kind`).
    pub enum TipoJob as "TipoJob" {
        /// Send an RPT (after paaAttivaRPT).
        InviaRpt => "nodoInviaRPT",
        /// Send a portal cart.
        InviaCarrello => "nodoInviaCarrelloRPT",
        /// E-mail the RT to its payer.
        RtEmail => "rtEmail",
        /// Ask the Nodo for an RT that did not come.
        RecuperoRt => "recuperoRT",
        /// Download an ente's reporting flows.
        Flussi => "flussi",
        /// Reconcile the RPTs the Nodo still holds as pending.
        Pendenti => "pendenti",
        /// Ask Biz Events for a new-model receipt a flow reports but that never came.
        RecuperoRicevuta => "recuperoRicevuta",
    }
}

stato_testuale! {
    /// An outbox job's state (`outbox.stato`).
    pub enum StatoJob as "StatoJob" {
        Pending => "PENDING",
        Done => "DONE",
        /// A dead letter: retried only by an operator.
        Dead => "DEAD",
    }
}

stato_testuale! {
    /// What reading a reporting flow found (`flusso.stato`).
    pub enum StatoFlusso as "StatoFlusso" {
        /// Read, its totals consistent: its payments are reconciled.
        Acquisito => "ACQUISITO",
        /// Read, its totals do not add up: kept and said, its payments reconciled.
        Anomalo => "ANOMALO",
        /// Not a FlussoRiversamento this gateway can read: kept raw.
        Illeggibile => "ILLEGGIBILE",
        /// For another istitutoRicevente.
        EnteNonServito => "ENTE_NON_SERVITO",
        /// Listed by the Nodo, then unknown to it (PPT_ID_FLUSSO_SCONOSCIUTO): no bytes.
        Sconosciuto => "SCONOSCIUTO",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_text() {
        for s in StatoRt::TUTTI {
            assert_eq!(StatoRt::parse(s.as_str()), Ok(*s));
        }
        for s in StatoRpt::TUTTI {
            assert_eq!(StatoRpt::try_from(s.as_str().to_owned()), Ok(*s));
        }
        for s in TipoJob::TUTTI {
            assert_eq!(TipoJob::parse(s.as_str()), Ok(*s));
            // serde uses the same text.
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for s in StatoJob::TUTTI {
            assert_eq!(StatoJob::parse(s.as_str()), Ok(*s));
        }
        for s in StatoFlusso::TUTTI {
            assert_eq!(StatoFlusso::parse(s.as_str()), Ok(*s));
        }
        assert!(StatoCarrello::parse("inviato").is_err());
        for c in 0..=4 {
            assert_eq!(
                EsitoPagamento::da_codice(c).map(EsitoPagamento::codice),
                Ok(c)
            );
        }
        assert!(EsitoPagamento::da_codice(5).is_err());
    }

    #[test]
    fn paid_means_esito_0_or_2() {
        let positivi: Vec<u8> = (0..=4)
            .filter(|c| EsitoPagamento::da_codice(*c).unwrap().positivo())
            .collect();
        assert_eq!(positivi, [0, 2]);
    }

    #[test]
    fn an_rt_settles_an_rpt_from_any_state_but_nothing_leaves_rt_ricevuta() {
        for s in StatoRpt::TUTTI {
            assert_eq!(
                s.can_become(StatoRpt::RtRicevuta),
                *s != StatoRpt::RtRicevuta
            );
            assert!(!StatoRpt::RtRicevuta.can_become(*s));
        }
        assert_eq!(
            StatoRpt::verso(StatoRpt::Scaduta),
            [StatoRpt::Creata, StatoRpt::Inviata, StatoRpt::RifiutataNodo]
        );
        assert!(!StatoCarrello::Inviato.can_become(StatoCarrello::Rifiutato));
        assert!(!StatoCarrello::Rifiutato.can_become(StatoCarrello::Creato));
        assert!(StatoRt::Ricevuta.can_become(StatoRt::Quarantena));
        assert!(!StatoRt::Elaborata.can_become(StatoRt::Anomala));
    }
}
