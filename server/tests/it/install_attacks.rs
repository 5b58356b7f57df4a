//! Forged, tampered and malformed lifecycle callbacks: each gets a 4xx and
//! leaves everything stored exactly as it was (threat catalogue L-xx).

use hostkit::{InstallKey, Tenant, jwt};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use server::connect::lifecycle::InstallState;

use crate::{
    on_both_databases,
    support::{
        app::{TestApp, jira_site},
        db::DbKind,
        rows::{Unchanged, dump, dump_text},
    },
};

/// Sends `body` with `authorization` to `/{event}` and asserts `status`, a
/// reply without `victim`'s secret and a store unchanged in every table.
async fn refused(
    app: &TestApp,
    victim: &Tenant,
    event: &str,
    body: &Value,
    authorization: Option<String>,
    status: u16,
    what: &str,
) {
    let unchanged = Unchanged::record(&app.raw_db).await;
    let response = app.host.post_lifecycle(event, body, authorization).await;
    assert_eq!(response.status(), status, "{what}");
    let text = response.text().await.unwrap_or_default();
    assert!(!text.contains(&victim.shared_secret), "{what}: the reply leaks a secret");
    unchanged.check(what).await;
}

fn jwt_header(token: &str) -> Option<String> {
    Some(format!("JWT {token}"))
}

async fn forged_and_tampered_installs_are_refused(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    assert_eq!(app.host.install(&victim).await.status(), 204);
    let attacker = victim.with_new_secret();
    let body = app.host.body(&attacker, "installed");
    let claims = app.host.install_claims(&attacker, "installed");
    let attacker_key = InstallKey::generate(&app.host.key.kid);

    let mut cases: Vec<(&str, Option<String>)> = vec![
        ("unsigned reinstall (L-02)", None),
        ("forged RSA signature under a genuine kid (L-04)", jwt_header(&jwt::rs256(&claims, &attacker_key))),
        (
            "HS256 signed with the body's own secret (L-03)",
            jwt_header(&jwt::hs256(&claims, attacker.shared_secret.as_bytes())),
        ),
        (
            "HS256 keyed with the RSA public key (I-09)",
            jwt_header(&jwt::hs256(&claims, app.host.key.public_pem.as_bytes())),
        ),
        ("alg none (I-06)", jwt_header(&jwt::raw(r#"{"alg":"none","typ":"JWT"}"#, &claims.to_string(), None))),
        ("bearer but garbage", Some("Bearer not.a.token".into())),
        ("two Authorization headers", None),
    ];
    let mut tweak = |name: &'static str, f: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        f(&mut c);
        cases.push((name, jwt_header(&jwt::rs256(&c, &app.host.key))));
    };
    tweak("iss is not the body's clientKey (L-05)", &|c| c["iss"] = json!("crafty-client"));
    tweak("aud missing (L-06)", &|c| {
        c.as_object_mut().unwrap().remove("aud");
    });
    tweak("aud names another app (L-06)", &|c| c["aud"] = json!(["https://other-app.example.com"]));
    tweak("aud with another scheme (L-06)", &|c| c["aud"] = json!([app.base_url.replace("http://", "https://")]));
    tweak("expired", &|c| c["exp"] = json!(hostkit::now() - 120));
    tweak("issued in the future", &|c| c["iat"] = json!(hostkit::now() + 600));
    tweak("qsh tampered", &|c| c["qsh"] = json!(hostkit::qsh::qsh("POST", "/uninstalled", &[])));
    tweak("qsh missing (I-04)", &|c| {
        c.as_object_mut().unwrap().remove("qsh");
    });
    tweak("context qsh on an install", &|c| c["qsh"] = json!("context-qsh"));
    tweak("exp as a string (I-14)", &|c| c["exp"] = json!("never"));
    tweak("nbf as a far-future string (CVE-2026-25537)", &|c| c["nbf"] = json!("99999999999"));

    for (what, authorization) in cases {
        if what == "two Authorization headers" {
            let unchanged = Unchanged::record(&app.raw_db).await;
            let token = app.host.install_token(&attacker, "installed");
            let response = app
                .host
                .http
                .post(format!("{}/installed", app.base_url))
                .header("authorization", format!("JWT {token}"))
                .header("authorization", format!("JWT {token}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{what}");
            unchanged.check(what).await;
            continue;
        }
        refused(&app, &victim, "installed", &body, authorization, 401, what).await;
    }
    // The victim's own secret still verifies.
    assert_eq!(app.host.toggle(&victim, "enabled").await.status(), 204);
}
on_both_databases!(forged_and_tampered_installs_are_refused);

async fn an_audience_with_a_trailing_slash_is_accepted(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new(&jira_site());
    let mut claims = app.host.install_claims(&tenant, "installed");
    claims["aud"] = json!(format!("{}/", app.base_url));
    let token = jwt::rs256(&claims, &app.host.key);
    let response = app.host.post_lifecycle("installed", &app.host.body(&tenant, "installed"), jwt_header(&token)).await;
    assert_eq!(response.status(), 204);
}
on_both_databases!(an_audience_with_a_trailing_slash_is_accepted);

async fn forged_uninstalls_are_refused_and_the_install_stays(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    app.host.install(&victim).await;
    let body = app.host.body(&victim, "uninstalled");
    let claims = app.host.install_claims(&victim, "uninstalled");
    let cases = [
        ("unsigned", None),
        ("HS256 with the tenant secret (L-13)", jwt_header(&victim.sign(&claims))),
        ("RS256 under an attacker key", jwt_header(&jwt::rs256(&claims, &InstallKey::generate(&app.host.key.kid)))),
    ];
    for (what, authorization) in cases {
        refused(&app, &victim, "uninstalled", &body, authorization, 401, what).await;
    }
    assert_eq!(app.installation(&victim.client_key).await.unwrap().state, InstallState::Installed);
}
on_both_databases!(forged_uninstalls_are_refused_and_the_install_stays);

async fn malicious_kids_never_reach_the_key_server(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    app.host.install(&victim).await;
    let requests_before = app.host.key_server.requests().len();
    let claims = app.host.install_claims(&victim, "installed");
    let long = "k".repeat(4096);
    for kid in
        ["../", "../../etc/passwd", "%2F", "a%2Fb", "a?b=c", "a#b", "http://127.0.0.1:1/", "", long.as_str(), "ключ"]
    {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": kid }).to_string();
        let key = EncodingKey::from_rsa_pem(app.host.key.private_pem.as_bytes()).unwrap();
        let token = jwt::raw(&header, &claims.to_string(), Some((&key, Algorithm::RS256)));
        refused(&app, &victim, "installed", &app.host.body(&victim, "installed"), jwt_header(&token), 401, kid).await;
    }
    assert_eq!(app.host.key_server.requests().len(), requests_before, "a malicious kid reached the key server");
}
on_both_databases!(malicious_kids_never_reach_the_key_server);

async fn jwk_and_jku_headers_are_never_used(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    app.host.install(&victim).await;
    // The attacker publishes their own key on their own server (L-08).
    let attacker_server = hostkit::KeyServer::start().await;
    let attacker = InstallKey::generate("attacker");
    attacker_server.add_key("attacker", &attacker.public_pem);
    let claims = app.host.install_claims(&victim.with_new_secret(), "installed");
    let header = json!({
        "alg": "RS256", "kid": app.host.key.kid, "jku": format!("{}/attacker", attacker_server.url()),
        "x5u": format!("{}/attacker", attacker_server.url()), "jwk": { "kty": "RSA", "n": "AQAB", "e": "AQAB" }
    });
    let key = EncodingKey::from_rsa_pem(attacker.private_pem.as_bytes()).unwrap();
    let token = jwt::raw(&header.to_string(), &claims.to_string(), Some((&key, Algorithm::RS256)));
    refused(
        &app,
        &victim,
        "installed",
        &app.host.body(&victim.with_new_secret(), "installed"),
        jwt_header(&token),
        401,
        "L-08",
    )
    .await;
    assert!(attacker_server.requests().is_empty(), "the app followed a jku/x5u header");
}
on_both_databases!(jwk_and_jku_headers_are_never_used);

async fn an_unknown_kid_is_refused_and_cached_as_missing(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    app.host.install(&victim).await;
    let stranger = InstallKey::generate("never-published");
    let claims = app.host.install_claims(&victim, "installed");
    for _ in 0..3 {
        let token = jwt::rs256(&claims, &stranger);
        refused(
            &app,
            &victim,
            "installed",
            &app.host.body(&victim, "installed"),
            jwt_header(&token),
            401,
            "unknown kid",
        )
        .await;
    }
    let fetches = app.host.key_server.requests().iter().filter(|p| p.ends_with("never-published")).count();
    assert_eq!(fetches, 1, "an unknown kid is fetched once, then cached as missing");
}
on_both_databases!(an_unknown_kid_is_refused_and_cached_as_missing);

async fn malformed_and_oversized_bodies_get_4xx_and_the_server_keeps_serving(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    app.host.install(&victim).await;
    let token = app.host.install_token(&victim, "installed");
    let url = format!("{}/installed", app.base_url);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<(Vec<u8>, &[u16])> = vec![
        (vec![b'{'; 5 * 1024 * 1024], &[413]),
        (b"not json".to_vec(), &[400]),
        (deep.into_bytes(), &[400, 413]),
        (json!({"clientKey": victim.client_key}).to_string().into_bytes(), &[400]),
        (
            json!({
                "key": "rust-connect-app", "clientKey": "k".repeat(300), "baseUrl": victim.base_url, "sharedSecret": "x"
            })
            .to_string()
            .into_bytes(),
            &[400],
        ),
    ];
    for (body, allowed) in bodies {
        let before = dump(&app.raw_db).await;
        let size = body.len();
        let response = app
            .http
            .post(&url)
            .header("authorization", format!("JWT {token}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("a {size}-byte body got no answer (the server must read it and answer): {e}"));
        assert!(allowed.contains(&response.status().as_u16()), "a {size}-byte body got {}", response.status());
        assert_eq!(dump_text(&dump(&app.raw_db).await), dump_text(&before), "a {size}-byte body wrote something");
    }
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}
on_both_databases!(malformed_and_oversized_bodies_get_4xx_and_the_server_keeps_serving);

async fn a_host_outside_the_allowlist_cannot_install(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let tenant = Tenant::new("https://evil.example.com");
    let unchanged = Unchanged::record(&app.raw_db).await;
    let response = app.host.install(&tenant).await;
    assert_eq!(response.status(), 403);
    unchanged.check("an install from a host outside the allowlist").await;
}
on_both_databases!(a_host_outside_the_allowlist_cannot_install);

async fn a_captured_install_token_cannot_carry_another_body(kind: DbKind) {
    let app = TestApp::spawn(kind).await;
    let victim = Tenant::new(&jira_site());
    let token = app.host.install_token(&victim, "installed");
    let app = &app;
    let install = |tenant: &Tenant| {
        let body = app.host.body(tenant, "installed");
        let authorization = jwt_header(&token);
        async move { app.host.post_lifecycle("installed", &body, authorization).await }
    };
    assert_eq!(install(&victim).await.status(), 204);
    let unchanged = Unchanged::record(&app.raw_db).await;
    let swapped_secret = victim.with_new_secret();
    assert_eq!(install(&swapped_secret).await.status(), 401, "the same token with another sharedSecret");
    unchanged.check("the same token with another sharedSecret").await;
    let moved = Tenant { base_url: jira_site(), ..victim.clone() };
    assert_eq!(install(&moved).await.status(), 401, "the same token with another baseUrl");
    unchanged.check("the same token with another baseUrl").await;
    assert_eq!(install(&victim).await.status(), 204, "an exact retry is an idempotent duplicate");
    assert_eq!(app.installation(&victim.client_key).await.unwrap().install_generation, 1);
    assert_eq!(app.host.toggle(&victim, "enabled").await.status(), 204, "the genuine secret still rules");
}
on_both_databases!(a_captured_install_token_cannot_carry_another_body);
