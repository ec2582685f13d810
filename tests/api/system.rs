use crate::both_backends;
use crate::helpers::*;
use axum::http::{Method, StatusCode};

both_backends!(health_ready_and_metrics_answer, |app| {
    let (s, b) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, b) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["status"], "ready");
    // Once started, the supervised background tasks are listed, running, never restarted.
    let mut app = app;
    app.start();
    assert!(
        crate::fakes::eventually(10, async || {
            let (_, b) = app.call(Method::GET, "/readyz", None, None).await;
            ["sweeper", "riconciliazione", "retention"]
                .iter()
                .all(|t| b["tasks"][t]["running"] == true && b["tasks"][t]["restarts"] == 0)
        })
        .await,
        "tasks in /readyz"
    );
    let (s, ct, body) = app
        .raw(Method::GET, "/metrics", None, "text/plain", vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/plain"));
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains(
            "pagopa_gateway_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("pagopa_gateway_http_request_duration_seconds_bucket"),
        "{text}"
    );
});

both_backends!(readiness_fails_when_the_database_is_gone, |app| {
    app.store().close().await;
    let (s, b) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(b["code"], "SERVICE_UNAVAILABLE");
});

both_backends!(
    errors_are_problem_json_with_stable_codes_and_request_id,
    |app| {
        let (s, b) = app
            .call(Method::GET, "/api/v1/nope", Some(ADMIN), None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
        );
        assert!(
            b["request_id"].as_str().is_some_and(|r| r.len() == 36),
            "{b}"
        );
        let (s, b) = app.call(Method::GET, "/api/v1/enti", None, None).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED"))
        );
        let (s, b) = app
            .call(Method::GET, "/api/v1/enti", Some("wrong-token"), None)
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED"))
        );
        // The scheme name is case-insensitive; another scheme is not a bearer token.
        for (header, ok) in [
            (format!("bearer {ADMIN}"), true),
            (format!("BEARER  {ADMIN} "), true),
            (format!("Basic {ADMIN}"), false),
            ("Bearer".to_owned(), false),
        ] {
            let (s, _, _) = app
                .raw_with(
                    Method::GET,
                    "/api/v1/enti",
                    None,
                    &[("authorization", header.as_str())],
                    "application/json",
                    Vec::new(),
                )
                .await;
            assert_eq!(s == StatusCode::OK, ok, "{header}: {s}");
        }
        let (s, _, body) = app
            .raw(
                Method::POST,
                "/api/v1/enti",
                Some(ADMIN),
                "application/json",
                b"{not json".to_vec(),
            )
            .await;
        let b: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("BAD_REQUEST"))
        );
        let (s, b) = app.call(Method::DELETE, "/healthz", None, None).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED"))
        );
        // A wrong type is a validation error that names the field.
        let (s, b) = app
            .post(
                "/api/v1/enti",
                ADMIN,
                serde_json::json!({"id_dominio": "123"}),
            )
            .await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("VALIDATION_FAILED"))
        );
        assert!(b["detail"].as_str().unwrap().contains("id_dominio"), "{b}");
    }
);

#[tokio::test]
async fn openapi_document_lists_every_route_and_matches_the_snapshot() {
    let doc = serde_json::to_value(pagopa_gateway::rest::openapi()).unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/enti",
        "/api/v1/enti/{id_dominio}/dovuti/import",
        "/api/v1/intermediario",
    ] {
        assert!(paths.iter().any(|x| *x == p), "{p} missing from {paths:?}");
    }
    insta::assert_json_snapshot!("openapi", doc);
}

both_backends!(openapi_and_swagger_ui_are_served, |app| {
    let (s, b) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b,
        serde_json::to_value(pagopa_gateway::rest::openapi()).unwrap()
    );
    let (s, ct, _) = app
        .raw(Method::GET, "/swagger-ui/", None, "text/html", vec![])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
});
