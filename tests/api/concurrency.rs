//! IUVs issued concurrently by several gateway instances sharing one database are unique
//! and carry valid check digits.

use crate::helpers::*;
use pagopa_gateway::model::NumeroAvviso;
use pagopa_gateway::registry::{NuovoDovuto, Pagatore, TipoSoggetto};
use pagopa_gateway::store::Store;
use proptest::prelude::*;
use std::collections::HashSet;

async fn issue_concurrently(backend: Backend, instances: usize, tasks: usize, per_task: usize) {
    let app = TestApp::spawn(backend).await;
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 42).await;
    let url = app.config.database.url.clone().unwrap();
    // Each "instance" has its own pool, as separate gateway processes would.
    let mut stores = Vec::new();
    for _ in 0..instances {
        stores.push(Store::connect(&url, 4).await.unwrap());
    }
    let ente = app.store().registro().get_ente(&a).await.unwrap();
    let tipo = app
        .store()
        .registro()
        .get_tipo_dovuto(&a, "TARI")
        .await
        .unwrap();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (store, ente, tipo) = (stores[t % instances].clone(), ente.clone(), tipo.clone());
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..per_task {
                let d = NuovoDovuto {
                    iud: format!("T{t}-{i}"),
                    iuv: None,
                    tipo_dovuto: "TARI".into(),
                    pagatore: Pagatore {
                        tipo: TipoSoggetto::F,
                        codice_fiscale: "RSSMRA85T10A562S".parse().unwrap(),
                        anagrafica: "Mario Rossi".into(),
                        indirizzo: None,
                        civico: None,
                        cap: None,
                        localita: None,
                        provincia: None,
                        nazione: None,
                        email: None,
                    },
                    importo: Some("1.00".parse().unwrap()),
                    commissione_pa: None,
                    causale: "c".into(),
                    dati_specifici_riscossione: None,
                    tipo_versamento: None,
                    data_scadenza: None,
                    data_validita: None,
                    bilancio: vec![],
                    ente_primario: None,
                }
                .resolve(&ente, &tipo)
                .unwrap();
                out.push(store.dovuti().insert(&ente, &d, "test").await.unwrap());
            }
            out
        }));
    }
    let mut avvisi = HashSet::new();
    for h in handles {
        for d in h.await.unwrap() {
            let na = NumeroAvviso::parse(d.numero_avviso.as_ref().unwrap().as_str())
                .expect("valid check digit");
            assert_eq!(na.code(), Some(42));
            assert!(
                avvisi.insert(na.as_str().to_owned()),
                "duplicate numero avviso {na}"
            );
        }
    }
    assert_eq!(avvisi.len(), tasks * per_task);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_issuance_on_postgres_gives_unique_valid_notices(instances in 2usize..4, tasks in 4usize..9, per_task in 5usize..20) {
        tokio::runtime::Runtime::new().unwrap().block_on(issue_concurrently(Backend::Postgres, instances, tasks, per_task));
    }

    #[test]
    fn concurrent_issuance_on_sqlite_gives_unique_valid_notices(instances in 2usize..4, tasks in 4usize..9, per_task in 5usize..20) {
        tokio::runtime::Runtime::new().unwrap().block_on(issue_concurrently(Backend::Sqlite, instances, tasks, per_task));
    }
}
