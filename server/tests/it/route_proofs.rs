//! The router, walked: every route it answers is listed with the proof it
//! declares, everything the app serves (pages, server functions, module
//! URLs, lifecycle callbacks) is among them, and every route that is not
//! public refuses a request without its proof and with the wrong kind of
//! proof. A path no route declares is 404. A route added without a
//! declaration stops the app from starting, which fails every test here.

use std::sync::OnceLock;

use hostkit::Tenant;
use reqwest::{Method, StatusCode};
use server::http::{DeclaredRoute, check_coverage, proof::ProofKind};

use crate::support::{
    app::TestApp,
    db::DbKind,
    rows::{dump, dump_text, wait_for_row},
};

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| server::console::hash_password("a long operator password").unwrap()).clone()
}

async fn app_with_console() -> TestApp {
    TestApp::builder(DbKind::Sqlite)
        .var("OPERATOR_USER", "ops")
        .var("OPERATOR_PASSWORD_HASH", password_hash())
        .start()
        .await
}

/// A concrete URL path for a declared path pattern.
fn concrete(path: &str) -> String {
    path.replace("{tenant}", "some-client").replace("{*file}", "frontend.js").replace("{id}", "1")
}

fn method(route: &DeclaredRoute) -> Method {
    Method::from_bytes(route.method.as_str().as_bytes()).unwrap()
}

/// Sends `route` with an optional `Authorization` value, a `?jwt=` token and a body.
async fn send(
    app: &TestApp,
    route: &DeclaredRoute,
    auth: Option<String>,
    jwt: Option<&str>,
    body: Option<&serde_json::Value>,
) -> StatusCode {
    let mut url = app.url(&concrete(&route.path));
    if let Some(jwt) = jwt {
        url.push_str(&format!("?jwt={jwt}"));
    }
    let mut request = app.http.request(method(route), url);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    request = match body {
        Some(body) => request.json(body),
        None => request.form(&[("csrf", "x"), ("title", "t"), ("body", "b"), ("id", "1")]),
    };
    request.send().await.unwrap().status()
}

/// How each kind of proof says no to a request without it.
fn refused(kind: ProofKind, status: StatusCode) -> bool {
    match kind {
        ProofKind::Public => false,
        ProofKind::HostPage
        | ProofKind::AdminPage
        | ProofKind::ApiCaller
        | ProofKind::ContextCaller
        | ProofKind::Lifecycle
        | ProofKind::ForgeEvent
        | ProofKind::Webhook => status == StatusCode::UNAUTHORIZED,
        // To the login page.
        ProofKind::Operator => status == StatusCode::SEE_OTHER,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_declared_with_its_proof_and_everything_served_is_covered() {
    let app = app_with_console().await;
    let listing: Vec<String> =
        app.routes.iter().map(|r| format!("{:<5} {:<40} {:?}", r.method.as_str(), r.path, r.proof)).collect();
    eprintln!("declared routes:\n{}", listing.join("\n"));

    let has = |method: &str, path: &str| {
        app.routes.iter().find(|r| r.method.as_str() == method && r.path == path).map(|r| r.proof)
    };
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        let proof = has(method.as_str(), path).unwrap_or_else(|| panic!("server function {path} has no declaration"));
        let public = path.starts_with(app::api::PUBLIC_PREFIX);
        assert_eq!(
            proof == ProofKind::Public,
            public,
            "{path}: only /api/public/ server functions are public ({proof:?})"
        );
    }
    for path in app::router::Page::paths() {
        assert!(has("GET", path).is_some(), "page {path} has no declaration");
    }
    assert_eq!(has("GET", "/app/hello"), Some(ProofKind::HostPage), "the vendor's page");
    assert_eq!(has("POST", "/api/vendor/greeting"), Some(ProofKind::ApiCaller), "the vendor's server function");
    assert_eq!(has("GET", "/app"), Some(ProofKind::HostPage));
    assert_eq!(has("GET", "/app/notes"), Some(ProofKind::HostPage)); // demo
    assert_eq!(has("GET", "/admin"), Some(ProofKind::AdminPage));
    assert_eq!(has("POST", "/api/notes/list"), Some(ProofKind::ApiCaller)); // demo
    assert_eq!(has("POST", "/api/session/renew"), Some(ProofKind::ContextCaller));
    assert_eq!(has("GET", "/console/orphans"), Some(ProofKind::Operator));
    for event in ["/installed", "/uninstalled", "/enabled", "/disabled"] {
        assert_eq!(has("POST", event), Some(ProofKind::Lifecycle), "{event}");
    }
    for path in ["/forge/events/installed", "/forge/events/upgraded", "/forge/events/pre-uninstall"] {
        assert_eq!(has("POST", path), Some(ProofKind::ForgeEvent), "{path}");
    }
    assert_eq!(has("POST", "/forge/scheduled/hourly"), Some(ProofKind::ForgeEvent));
    assert_eq!(has("POST", "/webhooks/jira-issue-created"), Some(ProofKind::Webhook));
    let is_preflight = |r: &&DeclaredRoute| r.method == http::Method::OPTIONS;
    let public: Vec<&str> = app
        .routes
        .iter()
        .filter(|r| r.proof == ProofKind::Public && !is_preflight(r))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        public,
        [
            "/atlassian-connect.json",
            "/healthz",
            "/pkg/{*file}",
            "/",
            "/api/public/app_info",
            "/console/login",
            "/console/login"
        ],
        "the public routes are exactly these"
    );
    // CORS preflights (answered by the layer, public) exactly where a Forge page's FIT is taken.
    let preflights: Vec<&str> = app.routes.iter().filter(is_preflight).map(|r| r.path.as_str()).collect();
    let fit_routes: Vec<&str> =
        app.routes.iter().filter(|r| r.proof == ProofKind::ApiCaller).map(|r| r.path.as_str()).collect();
    assert_eq!(preflights, fit_routes);
    assert!(app.routes.iter().filter(is_preflight).all(|r| r.proof == ProofKind::Public));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_missing_from_the_declarations_stops_the_start() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let descriptor =
        server::connect::descriptor::Descriptor::render(server::connect::descriptor::TEMPLATE, &app.base_url).unwrap();
    assert!(check_coverage(&app.routes, &descriptor).is_ok());
    for dropped in [
        "/api/notes/list", // demo
        "/app/notes",      // demo
        "/admin",
        "/enabled",
        "/forge/scheduled/hourly",
    ] {
        let fewer: Vec<DeclaredRoute> = app.routes.iter().filter(|r| r.path != dropped).cloned().collect();
        let error = check_coverage(&fewer, &descriptor).expect_err(dropped).to_string();
        assert!(error.contains(dropped) && error.contains("server/src/http/routes.rs"), "{dropped}: {error}");
    }
    // The right path with the wrong kind of proof is refused too.
    let weaker = [
        ("/admin", ProofKind::HostPage, "an admin module declared as a plain page"),
        ("/api/session/renew", ProofKind::ApiCaller, "a session token could renew itself"),
        ("/api/notes/list", ProofKind::Public, "a tenant's server function declared public"), // demo
        ("/api/public/app_info", ProofKind::ApiCaller, "a public function behind a proof"),
        ("/installed", ProofKind::Public, "a lifecycle callback declared public"),
        ("/forge/events/pre-uninstall", ProofKind::Lifecycle, "a Forge delivery under a Connect proof"),
        ("/webhooks/page-updated", ProofKind::Public, "a webhook declared public"),
    ];
    for (path, proof, why) in weaker {
        let mut weakened = app.routes.clone();
        weakened.iter_mut().filter(|r| r.path == path).for_each(|r| r.proof = proof);
        let error = check_coverage(&weakened, &descriptor).expect_err(why).to_string();
        assert!(error.contains(path), "{why}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_that_is_not_public_refuses_a_request_without_its_proof() {
    let app = app_with_console().await;
    let tenant = app.installed_tenant().await;
    let mut checked = 0;
    for route in app.routes.iter().filter(|r| r.proof != ProofKind::Public) {
        // A lifecycle callback with a well-formed body for a real tenant, only the token missing.
        let event = route.path.trim_start_matches('/');
        let body = (route.proof == ProofKind::Lifecycle).then(|| app.host.body(&tenant, event));
        let status = send(&app, route, None, None, body.as_ref()).await;
        assert!(
            refused(route.proof, status),
            "{} {} ({:?}) without proof gave {status}",
            route.method,
            route.path,
            route.proof
        );
        checked += 1;
        // Another method meets the proof first too: no 405 tells a stranger what is there.
        if route.proof != ProofKind::Lifecycle {
            let other = if route.method == http::Method::GET { http::Method::POST } else { http::Method::GET };
            let status = send(&app, &DeclaredRoute { method: other.clone(), ..route.clone() }, None, None, None).await;
            assert!(refused(route.proof, status), "{other} {} without proof gave {status}", route.path);
        }
    }
    assert!(checked >= 20, "too few protected routes walked: {checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_that_is_not_public_refuses_the_wrong_kind_of_proof() {
    let app = app_with_console().await;
    let tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "user-1").await;
    let context = tenant.context_token("user-1", 120);
    let page_jwt = |path: &str| tenant.sign(&tenant.claims("GET", path, &[], Some("user-1")));
    for route in app.routes.iter().filter(|r| r.proof != ProofKind::Public) {
        let what = format!("{} {} ({:?})", route.method, route.path, route.proof);
        let wrong: Vec<(&str, Option<String>, Option<String>)> = match route.proof {
            // A session token or a context JWT where the page JWT belongs.
            ProofKind::HostPage | ProofKind::AdminPage => vec![
                ("session token in ?jwt=", None, Some(session.clone())),
                ("context JWT in ?jwt=", None, Some(context.clone())),
                ("session token in the header", Some(format!("JWT {session}")), None),
            ],
            // A page JWT (qsh of a page) on the API, in the header or the query.
            ProofKind::ApiCaller | ProofKind::ContextCaller => vec![
                ("page JWT in the header", Some(format!("JWT {}", page_jwt(&route.path))), None),
                ("page JWT in ?jwt=", None, Some(page_jwt(&route.path))),
                ("context JWT in ?jwt=", None, Some(context.clone())),
            ],
            ProofKind::Lifecycle => vec![
                ("context JWT", Some(format!("JWT {context}")), None),
                ("session token", Some(format!("JWT {session}")), None),
            ],
            // A webhook takes the tenant's JWT with the qsh of this POST: not a session or context JWT.
            ProofKind::Webhook => vec![
                ("context JWT", Some(format!("JWT {context}")), None),
                ("session token", Some(format!("JWT {session}")), None),
                ("page JWT", Some(format!("JWT {}", page_jwt(&route.path))), None),
            ],
            // A Forge delivery takes a FIT only.
            ProofKind::ForgeEvent => vec![
                ("context JWT", Some(format!("Bearer {context}")), None),
                ("session token", Some(format!("Bearer {session}")), None),
                ("page JWT in ?jwt=", None, Some(page_jwt(&route.path))),
            ],
            ProofKind::Operator => vec![
                ("session token", Some(format!("JWT {session}")), None),
                ("context JWT", Some(format!("JWT {context}")), None),
            ],
            ProofKind::Public => vec![],
        };
        let event = route.path.trim_start_matches('/');
        let body = (route.proof == ProofKind::Lifecycle).then(|| app.host.body(&tenant, event));
        for (label, auth, jwt) in wrong {
            let status = send(&app, route, auth, jwt.as_deref(), body.as_ref()).await;
            assert!(refused(route.proof, status), "{what} with a {label} gave {status}");
        }
    }
    // The renewal function takes a context JWT only; a valid session token is known but not allowed.
    let renew = DeclaredRoute {
        method: http::Method::POST,
        path: "/api/session/renew".into(),
        proof: ProofKind::ContextCaller,
    };
    assert_eq!(send(&app, &renew, Some(format!("JWT {session}")), None, None).await, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, &renew, Some(format!("JWT {context}")), None, None).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_no_route_declares_is_404_whatever_it_carries() {
    let app = app_with_console().await;
    let tenant: Tenant = app.installed_tenant().await;
    let session = app.session_for(&tenant, "user-1").await;
    for path in [
        "/api/notes/nope", // no-demo: "/api/me/nope",
        "/api/public/nope",
        "/app/unknown",
        "/admin/x",
        "/console/nope",
        "/installed/x",
        "/pkgx",
        "/x",
    ] {
        for auth in [None, Some(format!("JWT {session}"))] {
            let mut request = app.http.post(app.url(path));
            if let Some(auth) = &auth {
                request = request.header("authorization", auth);
            }
            assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND, "POST {path} with {auth:?}");
            assert_eq!(app.http.get(app.url(path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "GET {path}");
        }
    }
}

/// Every Forge route, walked from the router: the FIT of each module the
/// route does not serve, and its own module's with a user where only Forge
/// calls, is refused; so is every Forge module's FIT on a server function
/// but the UI pages'. Nothing of any table changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forge_route_refuses_the_fit_of_each_module_it_does_not_serve() {
    use hostkit::forge::ForgeInstall;
    use server::connect::forge_modules::ForgeModule;

    let app = TestApp::builder(DbKind::Sqlite).forge().start().await;
    let forge = app.fake.forge.clone().unwrap();
    app.fake.add_native_site("walk", "jira");
    assert_eq!(app.fake.forge_install("walk").await, Ok(204));
    let install: ForgeInstall = app.fake.forge_installation("walk").unwrap();
    // The install's own product API check lands after its answer: wait for it, so only refusals are watched.
    wait_for_row(&app.raw_db, "reachable as the app").await;
    let mut walked = 0;
    for route in &app.routes {
        let wrong: Vec<(ForgeModule, Option<&str>)> = match route.proof {
            ProofKind::ForgeEvent => {
                let own = ForgeModule::ALL.into_iter().find(|m| m.path() == Some(route.path.as_str())).unwrap();
                let others = ForgeModule::ALL.into_iter().filter(|m| *m != own);
                others.flat_map(|m| [(m, None), (m, Some("user-1"))]).chain([(own, Some("user-1"))]).collect()
            }
            ProofKind::ApiCaller | ProofKind::ContextCaller => {
                ForgeModule::ALL.into_iter().filter(|m| !m.is_ui()).map(|m| (m, None)).collect()
            }
            _ => continue,
        };
        for (module, user) in wrong {
            let before = dump(&app.raw_db).await;
            let fit = forge.jwks.fit_of(&install, module.key(), user);
            let status = send(&app, route, Some(format!("Bearer {fit}")), None, Some(&serde_json::json!({}))).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {} with {module:?}'s FIT ({user:?})",
                route.method,
                route.path
            );
            let after = dump_text(&dump(&app.raw_db).await);
            assert_eq!(after, dump_text(&before), "{} {} with {module:?}'s FIT wrote", route.method, route.path);
            walked += 1;
        }
    }
    let server_functions = 11; // no-demo: let server_functions = 4;
    assert!(walked >= 5 * 13 + server_functions * 5, "too few Forge refusals walked: {walked}");
}

/// H-09: enumerate every registered server function; each refuses a call
/// without a token, except the deliberately public ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_function_but_the_public_ones_requires_a_caller() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let paths: Vec<(String, String)> =
        leptos::server_fn::axum::server_fn_paths().map(|(p, m)| (p.to_string(), m.to_string())).collect();
    assert!(paths.len() >= 5, "the house's own and the vendor's: {paths:?}");
    for (path, method) in paths {
        let request = app.http.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(&path));
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if path.starts_with(app::api::PUBLIC_PREFIX) {
            // The public functions take no arguments: a caller without a token gets
            // their answer, never a refusal and never a server error.
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, 200, "{path} is public: {body}");
            assert!(body.contains(env!("CARGO_PKG_VERSION")), "{path} answers with the app's facts: {body}");
        } else {
            assert_eq!(status, 401, "{path} answered without a caller");
        }
    }
}
