//! JSON documents checked against a schema of pagoPA's OpenAPI documents (vendored under
//! `wsdl/rest/`): `$ref`, `type`, `required`, `properties`, `items`, `minItems`/`maxItems`,
//! `minLength`/`maxLength`, `minimum`/`maximum` and `enum`, the keywords those documents use
//! to constrain what is exchanged. (`pattern` and `format` are left out: the documents'
//! patterns are not all valid regular expressions, e.g. `\d{1,2147483647}`.)

use serde_json::Value;

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The OpenAPI document `wsdl/rest/<file>`.
pub fn document(file: &str) -> Value {
    let p = repo().join("wsdl/rest").join(file);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

/// Panics with every violation when `value` does not satisfy `components.schemas.<schema>`.
pub fn assert_conforms(doc: &Value, schema: &str, value: &Value) {
    let mut errors = Vec::new();
    let s = &doc["components"]["schemas"][schema];
    assert!(!s.is_null(), "no schema {schema}");
    check(doc, s, value, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{schema}: {}\n{}",
        errors.join("; "),
        serde_json::to_string_pretty(value).unwrap()
    );
}

fn check(doc: &Value, s: &Value, v: &Value, at: &str, e: &mut Vec<String>) {
    if let Some(r) = s["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], v, at, e);
    }
    let ty = s["type"].as_str();
    let ok = match ty {
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        _ => true,
    };
    if !ok {
        e.push(format!("{at}: {} is not {}", v, ty.unwrap_or("?")));
        return;
    }
    if let Some(allowed) = s["enum"].as_array()
        && !allowed.contains(v)
    {
        e.push(format!("{at}: {v} not in {allowed:?}"));
    }
    if let Some(req) = s["required"].as_array() {
        for r in req.iter().filter_map(Value::as_str) {
            if v.get(r).is_none_or(Value::is_null) {
                e.push(format!("{at}.{r}: required"));
            }
        }
    }
    if let (Some(props), Some(obj)) = (s["properties"].as_object(), v.as_object()) {
        for (k, sub) in props {
            if let Some(x) = obj.get(k).filter(|x| !x.is_null()) {
                check(doc, sub, x, &format!("{at}.{k}"), e);
            }
        }
    }
    if let Some(a) = v.as_array() {
        let n = a.len() as u64;
        if s["minItems"].as_u64().is_some_and(|m| n < m)
            || s["maxItems"].as_u64().is_some_and(|m| n > m)
        {
            e.push(format!("{at}: {n} items outside minItems/maxItems"));
        }
        for (i, x) in a.iter().enumerate() {
            check(doc, &s["items"], x, &format!("{at}[{i}]"), e);
        }
    }
    if let Some(t) = v.as_str() {
        let n = t.chars().count() as u64;
        if s["minLength"].as_u64().is_some_and(|m| n < m)
            || s["maxLength"].as_u64().is_some_and(|m| n > m)
        {
            e.push(format!("{at}: length {n} outside minLength/maxLength"));
        }
    }
    if let Some(x) = v.as_f64()
        && (s["minimum"].as_f64().is_some_and(|m| x < m)
            || s["maximum"].as_f64().is_some_and(|m| x > m))
    {
        e.push(format!("{at}: {x} outside minimum/maximum"));
    }
}

#[test]
fn the_validator_refuses_what_the_schema_forbids() {
    let doc = document("checkout_v2.json");
    let good = serde_json::json!({
        "paymentNotices": [{"noticeNumber": "302012387654312384", "fiscalCode": "77777777777",
            "amount": 1000, "companyName": "Ente", "description": "TARI"}],
        "returnUrls": {"returnOkUrl": "https://e/ok", "returnCancelUrl": "https://e/ko",
            "returnErrorUrl": "https://e/err", "returnWaitingUrl": "https://e/wait"},
        "idCart": "c1", "allCCP": false
    });
    assert_conforms(&doc, "CartRequestV2", &good);
    for (path, bad) in [
        ("/paymentNotices/0/amount", serde_json::json!(0)),
        ("/paymentNotices/0/noticeNumber", serde_json::json!("123")),
        ("/allCCP", serde_json::json!("false")),
        ("/paymentNotices", serde_json::json!([])),
    ] {
        let mut v = good.clone();
        *v.pointer_mut(path).unwrap() = bad;
        let r = std::panic::catch_unwind(|| assert_conforms(&doc, "CartRequestV2", &v));
        assert!(r.is_err(), "{path} accepted");
    }
}
