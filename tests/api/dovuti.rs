use crate::both_backends;
use crate::helpers::*;
use axum::http::StatusCode;
use pagopa_gateway::model::{NumeroAvviso, StatoDovuto};
use serde_json::{Value, json};

both_backends!(
    dovuto_gets_an_aux3_notice_and_creation_is_idempotent_on_iud,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let (s, d) = app
            .post(
                &format!("/api/v1/enti/{a}/dovuti"),
                ADMIN,
                dovuto_json("IUD-1", "10.50"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let iuv = d["iuv"].as_str().unwrap();
        assert_eq!(iuv.len(), 17);
        assert!(iuv.starts_with("01"), "segregation code first: {iuv}");
        let na = NumeroAvviso::parse(d["numero_avviso"].as_str().unwrap()).unwrap();
        assert_eq!(na.iuv().as_str(), iuv);
        assert_eq!(
            (d["stato"].as_str(), d["importo"].as_str()),
            (Some("DA_PAGARE"), Some("10.50"))
        );

        let (s, again) = app
            .post(
                &format!("/api/v1/enti/{a}/dovuti"),
                ADMIN,
                dovuto_json("IUD-1", "10.50"),
            )
            .await;
        assert_eq!(
            s,
            StatusCode::OK,
            "same request again returns the stored dovuto"
        );
        assert_eq!(again["id"], d["id"]);
        let (s, b) = app
            .post(
                &format!("/api/v1/enti/{a}/dovuti"),
                ADMIN,
                dovuto_json("IUD-1", "11.00"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{b}");
        let (_, page) = app.get(&format!("/api/v1/enti/{a}/dovuti"), ADMIN).await;
        assert_eq!(page["total"], 1);
    }
);

both_backends!(
    dovuto_modify_cancel_and_history_follow_the_state_machine,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let base = format!("/api/v1/enti/{a}/dovuti");
        app.post(&base, ADMIN, dovuto_json("IUD-1", "10.00")).await;
        let (s, d) = app
            .put(
                &format!("{base}/IUD-1"),
                ADMIN,
                dovuto_json("IUD-1", "12.00"),
            )
            .await;
        assert_eq!(
            (s, d["importo"].as_str(), d["version"].as_i64()),
            (StatusCode::OK, Some("12.00"), Some(2))
        );
        let (s, d) = app
            .post(&format!("{base}/IUD-1/annulla"), ADMIN, json!({}))
            .await;
        assert_eq!(
            (s, d["stato"].as_str()),
            (StatusCode::OK, Some("ANNULLATO"))
        );
        let (s, _) = app
            .post(&format!("{base}/IUD-1/annulla"), ADMIN, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "cancel is idempotent");
        let (s, _) = app
            .put(
                &format!("{base}/IUD-1"),
                ADMIN,
                dovuto_json("IUD-1", "13.00"),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "a cancelled dovuto cannot change");
        let (_, h) = app.get(&format!("{base}/IUD-1/storia"), ADMIN).await;
        let steps: Vec<(Option<&str>, &str)> = h
            .as_array()
            .unwrap_or_else(|| panic!("{h}"))
            .iter()
            .map(|x| (x["stato_da"].as_str(), x["stato_a"].as_str().unwrap()))
            .collect();
        assert_eq!(
            steps,
            vec![
                (None, "DA_PAGARE"),
                (Some("DA_PAGARE"), "DA_PAGARE"),
                (Some("DA_PAGARE"), "ANNULLATO")
            ]
        );
    }
);

both_backends!(dovuto_in_payment_cannot_be_modified_or_cancelled, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let base = format!("/api/v1/enti/{a}/dovuti");
    app.post(&base, ADMIN, dovuto_json("IUD-1", "10.00")).await;
    let store = app.store();
    let d = store.dovuti().get(&a, "IUD-1").await.unwrap();
    store
        .dovuti()
        .change_stato(&d, StatoDovuto::PagamentoIniziato, "test")
        .await
        .unwrap();
    let (s, _) = app
        .put(
            &format!("{base}/IUD-1"),
            ADMIN,
            dovuto_json("IUD-1", "12.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = app
        .post(&format!("{base}/IUD-1/annulla"), ADMIN, json!({}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The store refuses moves the state machine does not allow, and stale moves.
    let err = store
        .dovuti()
        .change_stato(&d, StatoDovuto::PagamentoIniziato, "stale")
        .await
        .unwrap_err();
    assert!(
        matches!(err, pagopa_gateway::store::StoreError::Conflict(_)),
        "{err}"
    );
    let d = store.dovuti().get(&a, "IUD-1").await.unwrap();
    assert!(
        store
            .dovuti()
            .change_stato(&d, StatoDovuto::Annullato, "x")
            .await
            .is_err()
    );
});

both_backends!(dovuto_rules_are_enforced, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let base = format!("/api/v1/enti/{a}/dovuti");
    let mut d = dovuto_json("IUD-2", "10.00");
    d["iuv"] = json!("02000000000000187");
    let (s, b) = app.post(&base, ADMIN, d).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "foreign segregation code: {b}"
    );
    let mut d = dovuto_json("IUD-3", "10.00");
    d["iuv"] = json!("RF18539007547034");
    let (s, b) = app.post(&base, ADMIN, d).await;
    assert_eq!(
        (s, b["numero_avviso"].clone()),
        (StatusCode::CREATED, json!(null)),
        "a free IUV has no notice"
    );
    let mut d = dovuto_json("IUD-4", "10.00");
    d["bilancio"] = json!([{"cod_capitolo": "C1", "importo": "6.00"}, {"cod_capitolo": "C2", "importo": "3.00"}]);
    let (s, b) = app.post(&base, ADMIN, d.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["detail"].as_str().unwrap().contains("BILANCIO"), "{b}");
    d["bilancio"][1]["importo"] = json!("4.00");
    let (s, b) = app.post(&base, ADMIN, d).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["bilancio"][1]["cod_ufficio"], "n/a");
    let mut d = dovuto_json("IUD-5", "10.00");
    d["tipo_dovuto"] = json!("NOPE");
    let (s, _) = app.post(&base, ADMIN, d).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let mut d = dovuto_json("IUD-6", "10.00");
    d["pagatore"]["codice_fiscale"] = json!("RSSMRA85T10A562T");
    let (s, _) = app.post(&base, ADMIN, d).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "bad check character");
    let mut d = dovuto_json("IUD-7", "10.00");
    d["data_validita"] = json!("2027-01-01");
    let (s, _) = app.post(&base, ADMIN, d).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validity after due date"
    );
    let (s, _) = app.post(&base, ADMIN, dovuto_json("IUD-8", "0.00")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app.post(&base, ADMIN, dovuto_json("IUD-9", "10.001")).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sub-cent amounts are refused, never rounded"
    );
});

both_backends!(
    fixed_amount_tipo_dovuto_fills_and_checks_the_amount,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let mut t = tipo_json("BOLLO");
        t["importo_fisso"] = json!("16.00");
        app.post(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN, t)
            .await;
        let mut d = dovuto_json("IUD-1", "1.00");
        d["tipo_dovuto"] = json!("BOLLO");
        d.as_object_mut().unwrap().remove("importo");
        let (s, b) = app
            .post(&format!("/api/v1/enti/{a}/dovuti"), ADMIN, d.clone())
            .await;
        assert_eq!(
            (s, b["importo"].as_str()),
            (StatusCode::CREATED, Some("16.00"))
        );
        d["iud"] = json!("IUD-2");
        d["importo"] = json!("15.00");
        let (s, _) = app
            .post(&format!("/api/v1/enti/{a}/dovuti"), ADMIN, d)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both_backends!(dovuti_search_filters_and_paginates, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let base = format!("/api/v1/enti/{a}/dovuti");
    for i in 0..7 {
        app.post(&base, ADMIN, dovuto_json(&format!("IUD-{i}"), "1.00"))
            .await;
    }
    app.post(&format!("{base}/IUD-3/annulla"), ADMIN, json!({}))
        .await;
    let (_, p) = app.get(&format!("{base}?stato=ANNULLATO"), ADMIN).await;
    assert_eq!(
        (p["total"].as_i64(), p["items"][0]["iud"].as_str()),
        (Some(1), Some("IUD-3"))
    );
    let (_, p) = app
        .get(
            &format!("{base}?codice_fiscale=rssmra85t10a562s&per_page=5&page=2"),
            ADMIN,
        )
        .await;
    assert_eq!(
        (p["total"].as_i64(), p["items"].as_array().unwrap().len()),
        (Some(7), 2)
    );
    let (s, _) = app.get(&format!("{base}?stato=BOH"), ADMIN).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, d) = app.get(&format!("{base}/IUD-5"), ADMIN).await;
    let (_, p) = app
        .get(
            &format!(
                "{base}?numero_avviso={}",
                d["numero_avviso"].as_str().unwrap()
            ),
            ADMIN,
        )
        .await;
    assert_eq!(p["items"][0]["iud"], "IUD-5");
});

both_backends!(
    an_operator_prints_the_notices_of_a_list_of_dovuti_as_one_pdf,
    |app| {
        use axum::http::Method;
        let a = cf11("8000758027");
        let b = cf11("0012345678");
        app.seed_ente(&a, "c_l736", 1).await;
        app.seed_ente(&b, "c_f241", 2).await;
        for (iud, importo) in [("AVV-1", "10.50"), ("AVV-2", "1234.56")] {
            let (s, d) = app
                .post(
                    &format!("/api/v1/enti/{a}/dovuti"),
                    ADMIN,
                    dovuto_json(iud, importo),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{d}");
        }
        let key = app.operator_key(&a).await;
        let print = async |ente: &str, token: &str, iud: Value| {
            let body = serde_json::to_vec(&json!({ "iud": iud })).unwrap();
            app.raw(
                Method::POST,
                &format!("/api/v1/enti/{ente}/avvisi.pdf"),
                Some(token),
                "application/json",
                body,
            )
            .await
        };
        let (s, ct, pdf) = print(&a, &key, json!(["AVV-1", "AVV-2"])).await;
        assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/pdf"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            pdf.starts_with(b"%PDF-1.4") && text.contains("/Count 2"),
            "two pages"
        );
        assert!(
            text.contains("(1.234,56)") && text.contains("(10,50 Euro)"),
            "amounts as Italians read them"
        );
        // Unknown dovuti are named; another ente's operator is refused.
        let (s, _, body) = print(&a, &key, json!(["AVV-1", "NOPE"])).await;
        let p: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            p["detail"].as_str().unwrap().contains("NOPE (sconosciuto)"),
            "{p}"
        );
        assert_eq!(
            print(&b, &key, json!(["AVV-1"])).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            print(&a, &key, json!([])).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
);
