use crate::both_backends;
use crate::helpers::*;
use axum::http::{Method, StatusCode};
use serde_json::json;

both_backends!(
    operator_of_ente_a_cannot_read_or_change_anything_of_ente_b,
    |app| {
        let a = cf11("8000758027");
        let b = cf11("0012345678");
        app.seed_ente(&a, "c_l736", 1).await;
        app.seed_ente(&b, "c_f241", 2).await;
        app.post(
            &format!("/api/v1/enti/{b}/dovuti"),
            ADMIN,
            dovuto_json("B-1", "10.00"),
        )
        .await;
        let key_a = app.operator_key(&a).await;

        // Own ente: allowed.
        let (s, _) = app.get(&format!("/api/v1/enti/{a}"), &key_a).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{a}/dovuti"),
                &key_a,
                dovuto_json("A-1", "1.00"),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, list) = app.get("/api/v1/enti", &key_a).await;
        assert_eq!(list["total"], 1, "an operator lists only their own ente");
        assert_eq!(list["items"][0]["id_dominio"], a.as_str());

        // Ente B: every read and write answers 404, as if B did not exist.
        let reads = [
            format!("/api/v1/enti/{b}"),
            format!("/api/v1/enti/{b}/tipi-dovuto"),
            format!("/api/v1/enti/{b}/tipi-dovuto/TARI"),
            format!("/api/v1/enti/{b}/dovuti"),
            format!("/api/v1/enti/{b}/dovuti/B-1"),
            format!("/api/v1/enti/{b}/dovuti/B-1/storia"),
            format!("/api/v1/enti/{b}/imports/x"),
        ];
        for path in &reads {
            let (s, body) = app.get(path, &key_a).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "GET {path}: {body}");
        }
        let writes = [
            (
                Method::POST,
                format!("/api/v1/enti/{b}/dovuti"),
                dovuto_json("A-2", "1.00"),
            ),
            (
                Method::PUT,
                format!("/api/v1/enti/{b}/dovuti/B-1"),
                dovuto_json("B-1", "2.00"),
            ),
            (
                Method::POST,
                format!("/api/v1/enti/{b}/dovuti/B-1/annulla"),
                json!({}),
            ),
            (
                Method::POST,
                format!("/api/v1/enti/{b}/tipi-dovuto"),
                tipo_json("X"),
            ),
            (
                Method::PUT,
                format!("/api/v1/enti/{b}/tipi-dovuto/TARI"),
                tipo_json("TARI"),
            ),
        ];
        for (m, path, body) in writes {
            let (s, resp) = app.call(m.clone(), &path, Some(&key_a), Some(body)).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{m} {path}: {resp}");
        }
        let (s, _, _) = app
            .raw(
                Method::POST,
                &format!("/api/v1/enti/{b}/dovuti/import"),
                Some(&key_a),
                "text/csv",
                b"x".to_vec(),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Administrative operations are the admin's alone.
        let (s, _) = app
            .post(
                "/api/v1/enti",
                &key_a,
                ente_json(&cf11("5555555555"), "x", 3),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .put(
                &format!("/api/v1/enti/{a}"),
                &key_a,
                ente_json(&a, "c_l736", 1),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post(
                &format!("/api/v1/enti/{a}/api-keys"),
                &key_a,
                json!({"label": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // B is untouched.
        let d = app.store().dovuti().get(&b, "B-1").await.unwrap();
        assert_eq!((d.version, d.importo.cents()), (1, 1000));
        let (_, page) = app.get(&format!("/api/v1/enti/{b}/dovuti"), ADMIN).await;
        assert_eq!(page["total"], 1);
    }
);

both_backends!(revoked_operator_key_is_refused, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let key = app.operator_key(&a).await;
    let (_, keys) = app.get(&format!("/api/v1/enti/{a}/api-keys"), ADMIN).await;
    let id = keys[0]["id"].as_i64().unwrap();
    assert!(
        keys.to_string().find(&key).is_none(),
        "the secret is never listed"
    );
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/enti/{a}/api-keys/{id}"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app.get(&format!("/api/v1/enti/{a}"), &key).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
});
