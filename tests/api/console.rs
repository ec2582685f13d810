//! The MyPivot console's people: sign-in with password and one-time code, sessions, roles
//! and enti enforced on pages and on the REST API alike, the journal of changes.

use crate::both_backends;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use pagopa_gateway::dominio::accesso;
use tower::ServiceExt;

struct Risposta {
    status: StatusCode,
    location: String,
    cookie: Option<String>,
    body: String,
}

async fn chiama(
    router: &axum::Router,
    metodo: Method,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Risposta {
    let mut req = Request::builder()
        .method(metodo)
        .uri(uri)
        .header("host", "gw.example.it");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("console_sessione={c}"));
    }
    if form.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let r = router
        .clone()
        .oneshot(req.body(Body::from(form.unwrap_or("").to_owned())).unwrap())
        .await
        .unwrap();
    let h = |k| {
        r.headers()
            .get(k)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let location = h(header::LOCATION).unwrap_or_default();
    let cookie = h(header::SET_COOKIE).map(|c| {
        c.trim_start_matches("console_sessione=")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    });
    let status = r.status();
    let body =
        String::from_utf8_lossy(&r.into_body().collect().await.unwrap().to_bytes()).into_owned();
    Risposta {
        status,
        location,
        cookie,
        body,
    }
}

/// The REST API and the web pages, as `serve` mounts them.
fn pagine(app: &TestApp) -> axum::Router {
    app.router.clone().merge(pagopa_gateway::web::router(
        app.app.as_ref().unwrap().state().clone(),
    ))
}

const PW: &str = "una-password-lunga";

/// An operator with the test password; their TOTP secret.
async fn operatore(app: &TestApp, username: &str, ruoli: &str, ente: &str) -> String {
    pagopa_gateway::operatori::crea(
        &app.store(),
        username,
        username,
        ruoli,
        &[ente.to_owned()],
        Some(PW.to_owned()),
    )
    .await
    .unwrap()
    .totp_secret
}

fn codice_ora(secret: &str) -> String {
    let raw = accesso::from_base32(secret).unwrap();
    accesso::codice(&raw, accesso::passo(time::OffsetDateTime::now_utc()))
}

/// Password, then code: the session cookie of a complete sign-in.
async fn accedi(router: &axum::Router, user: &str, password: &str, secret: &str) -> String {
    let r = chiama(
        router,
        Method::POST,
        "/console/accesso",
        None,
        Some(&format!("username={user}&password={password}")),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/console/accesso/codice");
    let meta = r.cookie.expect("first-factor cookie");
    let r = chiama(
        router,
        Method::POST,
        "/console/accesso/codice",
        Some(&meta),
        Some(&format!("codice={}", codice_ora(secret))),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let piena = r.cookie.expect("session cookie");
    assert_ne!(piena, meta, "a new token once both factors are given");
    // The first factor's token is gone.
    let r = chiama(router, Method::GET, "/console", Some(&meta), None, &[]).await;
    assert_eq!(r.location, "/console/accesso");
    piena
}

both_backends!(
    operators_sign_in_with_two_factors_and_see_only_their_roles_and_enti,
    |app| {
        let a = cf11("8000758027");
        let b = cf11("0012345678");
        app.seed_ente(&a, "c_l736", 1).await;
        app.seed_ente(&b, "c_f241", 2).await;
        let store = app.store();
        let pw = "una-password-lunga".to_owned();
        let mario = pagopa_gateway::operatori::crea(
            &store,
            "mario.rossi",
            "Mario Rossi",
            "visualizzazione,amministrazione",
            std::slice::from_ref(&a),
            Some(pw.clone()),
        )
        .await
        .unwrap();
        assert!(
            mario.password.is_none(),
            "a given password is not printed back"
        );
        let router = pagine(&app);

        // No session: pages send to the sign-in form, the API answers 401.
        let r = chiama(
            &router,
            Method::GET,
            &format!("/console/enti/{a}/riconciliazione"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(
            (r.status, r.location.as_str()),
            (StatusCode::SEE_OTHER, "/console/accesso")
        );
        let r = chiama(
            &router,
            Method::GET,
            &format!("/api/v1/enti/{a}"),
            Some("nonsense"),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);

        // A wrong password and an unknown user get the same answer.
        for form in [
            "username=mario.rossi&password=sbagliata",
            "username=nessuno&password=sbagliata",
        ] {
            let r = chiama(
                &router,
                Method::POST,
                "/console/accesso",
                None,
                Some(form),
                &[],
            )
            .await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(
                r.body.contains("Nome utente o password non validi"),
                "{}",
                r.body
            );
            assert!(r.cookie.is_none());
        }

        let sessione = accedi(&router, "mario.rossi", &pw, &mario.totp_secret).await;
        // The same code cannot be used twice (here, or on another instance).
        let r = chiama(
            &router,
            Method::POST,
            "/console/accesso",
            None,
            Some(&format!("username=mario.rossi&password={pw}")),
            &[],
        )
        .await;
        let meta = r.cookie.unwrap();
        let r = chiama(
            &router,
            Method::POST,
            "/console/accesso/codice",
            Some(&meta),
            Some(&format!("codice={}", codice_ora(&mario.totp_secret))),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("Codice non valido o già usato"),
            "{}",
            r.body
        );

        // Pages and API: own ente with own roles yes; statistics no (403); ente B not found.
        let r = chiama(
            &router,
            Method::GET,
            &format!("/console/enti/{a}/riconciliazione"),
            Some(&sessione),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("Riconciliazione") && r.body.contains("Mario Rossi"));
        let r = chiama(
            &router,
            Method::GET,
            &format!("/api/v1/enti/{a}/riconciliazione"),
            Some(&sessione),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for uri in [
            format!("/console/enti/{a}/statistiche"),
            format!("/api/v1/enti/{a}/statistiche"),
        ] {
            let r = chiama(&router, Method::GET, &uri, Some(&sessione), None, &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.body);
        }
        for uri in [
            format!("/console/enti/{b}/riconciliazione"),
            format!("/api/v1/enti/{b}"),
            format!("/api/v1/enti/{b}/riconciliazione"),
        ] {
            let r = chiama(&router, Method::GET, &uri, Some(&sessione), None, &[]).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.body);
        }
        let r = chiama(
            &router,
            Method::GET,
            "/api/v1/enti",
            Some(&sessione),
            None,
            &[],
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["total"], 1, "{v}");
        // Administrator-only routes stay so.
        let r = chiama(
            &router,
            Method::GET,
            "/console/ops",
            Some(&sessione),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // A change through the console lands in the journal of changes with who made it; a
        // form from another site riding the cookie is refused.
        let nota = format!(
            "codice=RT_NO_IUF&iuv=01000000000000001&nota=verificare&torna=/console/enti/{a}/anomalie"
        );
        let r = chiama(
            &router,
            Method::POST,
            &format!("/console/enti/{a}/segnalazioni"),
            Some(&sessione),
            Some(&nota),
            &[],
        )
        .await;
        assert!(
            r.status == StatusCode::SEE_OTHER || r.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {}",
            r.status,
            r.body
        );
        let r = chiama(
            &router,
            Method::POST,
            &format!("/api/v1/enti/{a}/riconciliazione/ricalcola"),
            Some(&sessione),
            None,
            &[("origin", "https://evil.example")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = chiama(
            &router,
            Method::POST,
            &format!("/api/v1/enti/{a}/riconciliazione/ricalcola"),
            Some(&sessione),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let modifiche = store.operatori().changes(50).await.unwrap();
        assert!(
            modifiche.iter().any(|m| m.chi == "mario.rossi"
                && m.percorso == format!("/api/v1/enti/{a}/riconciliazione/ricalcola")
                && m.stato == 200),
            "{modifiche:?}"
        );
        assert!(
            modifiche
                .iter()
                .any(|m| m.chi == "mario.rossi" && m.percorso.ends_with("/segnalazioni")),
            "{modifiche:?}"
        );
        assert!(
            modifiche.iter().any(|m| m.chi == "mario.rossi"
                && m.percorso == "/console/accesso"
                && m.stato == 401)
        );

        // Signing out ends the session everywhere.
        let r = chiama(
            &router,
            Method::POST,
            "/console/esci",
            Some(&sessione),
            Some(""),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = chiama(
            &router,
            Method::GET,
            &format!("/api/v1/enti/{a}"),
            None,
            None,
            &[(
                header::COOKIE.as_str(),
                &format!("console_sessione={sessione}"),
            )],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);

        // Five failures in a row lock the account, the right password included; only who
        // gives the right password learns of the lock.
        for _ in 0..accesso::MAX_TENTATIVI {
            chiama(
                &router,
                Method::POST,
                "/console/accesso",
                None,
                Some("username=mario.rossi&password=sbagliata"),
                &[],
            )
            .await;
        }
        let r = chiama(
            &router,
            Method::POST,
            "/console/accesso",
            None,
            Some("username=mario.rossi&password=sbagliata"),
            &[],
        )
        .await;
        assert!(
            r.body.contains("Nome utente o password non validi"),
            "{}",
            r.body
        );
        let r = chiama(
            &router,
            Method::POST,
            "/console/accesso",
            None,
            Some(&format!("username=mario.rossi&password={pw}")),
            &[],
        )
        .await;
        assert!(r.cookie.is_none());
        assert!(r.body.contains("Troppi tentativi"), "{}", r.body);
    }
);

both_backends!(one_time_codes_cannot_be_guessed_past_the_lockout, |app| {
    let a = cf11("8000758027");
    app.seed_ente(&a, "c_l736", 1).await;
    let store = app.store();
    let pw = PW.to_owned();
    let segreto = operatore(&app, "anna.neri", "visualizzazione", &a).await;
    let router = pagine(&app);
    let login = format!("username=anna.neri&password={pw}");
    let giusto = codice_ora(&segreto);
    let sbagliato = if giusto == "000000" {
        "111111"
    } else {
        "000000"
    };

    // A second password sign-in replaces the first one waiting for its code.
    let prima = chiama(
        &router,
        Method::POST,
        "/console/accesso",
        None,
        Some(&login),
        &[],
    )
    .await
    .cookie
    .unwrap();
    let seconda = chiama(
        &router,
        Method::POST,
        "/console/accesso",
        None,
        Some(&login),
        &[],
    )
    .await
    .cookie
    .unwrap();
    let r = chiama(
        &router,
        Method::GET,
        "/console/accesso/codice",
        Some(&prima),
        None,
        &[],
    )
    .await;
    assert_eq!(
        r.location, "/console/accesso",
        "the first half session is gone"
    );

    // Guesses all count: the fifth locks and ends the session waiting.
    for k in 1..=accesso::MAX_TENTATIVI {
        let r = chiama(
            &router,
            Method::POST,
            "/console/accesso/codice",
            Some(&seconda),
            Some(&format!("codice={sbagliato}")),
            &[],
        )
        .await;
        if k < accesso::MAX_TENTATIVI {
            assert!(r.body.contains("Codice non valido"), "{k}: {}", r.body);
        } else {
            assert!(r.body.contains("Troppi tentativi"), "{k}: {}", r.body);
        }
    }
    let r = chiama(
        &router,
        Method::POST,
        "/console/accesso/codice",
        Some(&seconda),
        Some(&format!("codice={giusto}")),
        &[],
    )
    .await;
    assert_eq!(
        r.location, "/console/accesso",
        "no guess is left on the locked account"
    );
    let r = chiama(
        &router,
        Method::POST,
        "/console/accesso",
        None,
        Some(&login),
        &[],
    )
    .await;
    assert!(
        r.cookie.is_none() && r.body.contains("Troppi tentativi"),
        "{}",
        r.body
    );

    // Once the lock is over (here: moved to the past), in again; disabled, every
    // session ends.
    store
        .operatori()
        .lock("anna.neri", time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap();
    let s = accedi(&router, "anna.neri", &pw, &segreto).await;
    let r = chiama(
        &router,
        Method::GET,
        &format!("/api/v1/enti/{a}"),
        Some(&s),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    store.operatori().disable("anna.neri").await.unwrap();
    let r = chiama(
        &router,
        Method::GET,
        &format!("/api/v1/enti/{a}"),
        Some(&s),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
});

both_backends!(
    a_person_with_statistics_only_works_on_statistics_and_reads_the_ente,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let store = app.store();
        let pw = PW.to_owned();
        let segreto = operatore(&app, "paolo.gialli", "statistiche", &a).await;
        let router = pagine(&app);
        let s = accedi(&router, "paolo.gialli", &pw, &segreto).await;
        let r = chiama(&router, Method::GET, "/console", Some(&s), None, &[]).await;
        assert_eq!(r.location, format!("/console/enti/{a}"), "{}", r.body);
        let r = chiama(
            &router,
            Method::GET,
            &format!("/console/enti/{a}/statistiche"),
            Some(&s),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let (_, ente) = app.get(&format!("/api/v1/enti/{a}"), ADMIN).await;
        let nome = ente["denominazione"].as_str().unwrap();
        assert!(r.body.contains(nome), "the header names the ente");
        assert!(
            !r.body.contains("<span>Visualizzazione</span>"),
            "no menu it cannot open"
        );
        for uri in [
            format!("/console/enti/{a}/riconciliazione"),
            format!("/api/v1/enti/{a}/ricevute"),
            format!("/console/enti/{a}/accertamenti"),
        ] {
            let r = chiama(&router, Method::GET, &uri, Some(&s), None, &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
        }
        // A refusal is journaled with who was refused.
        let r = chiama(
            &router,
            Method::POST,
            &format!("/api/v1/enti/{a}/riconciliazione/ricalcola"),
            Some(&s),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let m = store.operatori().changes(10).await.unwrap();
        assert!(
            m.iter().any(|m| m.chi == "paolo.gialli" && m.stato == 403),
            "{m:?}"
        );
    }
);

both_backends!(
    the_intermediary_administrator_sees_every_ente_and_the_operations_page,
    |app| {
        let a = cf11("8000758027");
        app.seed_ente(&a, "c_l736", 1).await;
        let store = app.store();
        let c = pagopa_gateway::operatori::crea(
            &store,
            "admin.regione",
            "Amministratore",
            "intermediario",
            &[],
            None,
        )
        .await
        .unwrap();
        let pw = c.password.clone().expect("generated");
        assert!(
            pagopa_gateway::operatori::crea(
                &store,
                "x",
                "X",
                "statistiche",
                std::slice::from_ref(&a),
                None
            )
            .await
            .is_err(),
            "username too short"
        );
        assert!(
            pagopa_gateway::operatori::crea(&store, "senza.enti", "X", "statistiche", &[], None)
                .await
                .is_err()
        );
        let router = pagine(&app);
        let s = accedi(&router, "admin.regione", &pw, &c.totp_secret).await;
        let r = chiama(&router, Method::GET, "/console/ops", Some(&s), None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for atteso in [
            "Outbox",
            "RT in quarantena",
            "Giornale dei messaggi",
            "Registro delle modifiche",
            "admin.regione",
            &a,
        ] {
            assert!(r.body.contains(atteso), "{atteso}");
        }
        let r = chiama(
            &router,
            Method::GET,
            &format!("/console/enti/{a}/statistiche"),
            Some(&s),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
);
