use crate::both_backends;
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

both_backends!(admin_creates_reads_updates_and_searches_enti, |app| {
    let a = cf11("8000758027");
    let b = cf11("0012345678");
    app.seed_ente(&a, "c_l736", 1).await;
    app.seed_ente(&b, "c_f241", 2).await;
    let (s, e) = app.get(&format!("/api/v1/enti/{a}"), ADMIN).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(e["codice_ipa"], "c_l736");
    assert_eq!(e["contatti"]["email"], "tributi@comune.example.it");
    assert_eq!(e["ibans"][0], IBAN);

    let mut upd = ente_json(&a, "c_l736", 1);
    upd["denominazione"] = json!("Comune di Venezia");
    let (s, e) = app.put(&format!("/api/v1/enti/{a}"), ADMIN, upd).await;
    assert_eq!(
        (s, e["denominazione"].as_str()),
        (StatusCode::OK, Some("Comune di Venezia"))
    );

    let (_, page) = app.get("/api/v1/enti?q=VENEZ", ADMIN).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id_dominio"], a.as_str());
    let (_, page) = app.get("/api/v1/enti?per_page=1&page=2", ADMIN).await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let (_, page) = app.get("/api/v1/enti?q=100%25", ADMIN).await;
    assert_eq!(page["total"], 0, "LIKE wildcards in the query are literal");
    let (s, _) = app.get("/api/v1/enti?per_page=0", ADMIN).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
});

both_backends!(invalid_or_duplicate_enti_are_refused, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let (s, b) = app
        .post("/api/v1/enti", ADMIN, ente_json(&a, "other", 1))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::CONFLICT, Some("CONFLICT"))
    );
    let mut bad_cf = a.clone();
    bad_cf.replace_range(10..11, if a.ends_with('0') { "1" } else { "0" });
    let (s, b) = app
        .post("/api/v1/enti", ADMIN, ente_json(&bad_cf, "x1", 1))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let mut bad_iban = ente_json(&cf11("1111111111"), "x2", 1);
    bad_iban["ibans"] = json!(["IT60X0542811101000000123457"]);
    let (s, _) = app.post("/api/v1/enti", ADMIN, bad_iban).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = app
        .post(
            "/api/v1/enti",
            ADMIN,
            ente_json(&cf11("2222222222"), "x3", 100),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "segregation code above 99"
    );
    let (s, _) = app
        .get(&format!("/api/v1/enti/{}", cf11("3333333333")), ADMIN)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
});

both_backends!(
    tipo_dovuto_needs_a_registered_iban_and_a_coherent_late_policy,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let mut t = tipo_json("BOLLO");
        t["iban"] = json!("GB82WEST12345698765432");
        let (s, b) = app
            .post(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN, t)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(b["detail"].as_str().unwrap().contains("IBAN"), "{b}");
        let mut t = tipo_json("BOLLO");
        t["politica_scadenza"] = json!("RIFIUTA");
        let (s, _) = app
            .post(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN, t.clone())
            .await;
        assert_eq!(
            s,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a late fee with a refusing policy is incoherent"
        );
        t["mora_fissa"] = json!(null);
        t["interesse_annuo_bp"] = json!(0);
        t["importo_fisso"] = json!("16.00");
        let (s, b) = app
            .post(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN, t.clone())
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        assert_eq!(b["importo_fisso"], "16.00");
        let (s, _) = app
            .post(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN, t.clone())
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        t["descrizione"] = json!("Marca da bollo");
        let (s, b) = app
            .put(&format!("/api/v1/enti/{a}/tipi-dovuto/BOLLO"), ADMIN, t)
            .await;
        assert_eq!(
            (s, b["descrizione"].as_str()),
            (StatusCode::OK, Some("Marca da bollo"))
        );
        let (_, list) = app
            .get(&format!("/api/v1/enti/{a}/tipi-dovuto"), ADMIN)
            .await;
        assert_eq!(list.as_array().unwrap().len(), 2);
    }
);

both_backends!(segregation_code_is_frozen_once_dovuti_exist, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let (s, _) = app
        .put(
            &format!("/api/v1/enti/{a}"),
            ADMIN,
            ente_json(&a, "c_l736", 7),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "no dovuti yet: may change");
    let (s, _) = app
        .post(
            &format!("/api/v1/enti/{a}/dovuti"),
            ADMIN,
            dovuto_json("IUD-1", "10.00"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = app
        .put(
            &format!("/api/v1/enti/{a}"),
            ADMIN,
            ente_json(&a, "c_l736", 8),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
});

both_backends!(
    intermediario_is_seeded_from_config_and_its_password_never_returned,
    |app| {
        let (s, b) = app.get("/api/v1/intermediario", ADMIN).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            b["id_intermediario_pa"],
            app.config.intermediario.id_intermediario_pa.as_str()
        );
        assert!(b.get("password").is_none(), "{b}");
        let (s, b) = app.put("/api/v1/intermediario", ADMIN, json!({"id_intermediario_pa": cf11("0999999999"), "id_stazione": "st_01", "password": "newPassw0rd"})).await;
        assert_eq!(
            (s, b["id_stazione"].as_str()),
            (StatusCode::OK, Some("st_01"))
        );
        assert_eq!(
            app.store()
                .registro()
                .get_intermediario()
                .await
                .unwrap()
                .password,
            "newPassw0rd"
        );
        let (s, _) = app.put("/api/v1/intermediario", ADMIN, json!({"id_intermediario_pa": cf11("0999999999"), "id_stazione": "st_01", "password": "short"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
);
