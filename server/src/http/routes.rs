//! Every route the app answers, each with the proof it accepts: this table is
//! the app's whole HTTP surface. A path it does not name is answered 404
//! before any handler runs, and a route cannot be added without naming its
//! proof (`DeclaredRouter` has no other way in). Startup fails when a Leptos
//! page, a server function, a descriptor module, a lifecycle callback or a
//! Forge endpoint has no declaration here, or the wrong kind of one.

use std::{collections::BTreeSet, pin::Pin, sync::Arc};

use app::{
    api::{
        PUBLIC_PREFIX,
        activity::{ListActivity, ShareNote, SharedActivityBackend}, // demo
        admin::{GetInstallStatus, SharedAdminBackend},
        app_info::AppInfo,
        backend::SharedServices,
        me::{DisplayName, GetIdentity, SharedMeBackend},
        notes::{CreateNote, DeleteNote, LinkNote, ListNotes, SharedNotesBackend, UpdateNote}, // demo
        session::{RenewSession, SharedSessionBackend},
    },
    bundle::BundleScripts,
    router::Page,
    shell, vendor,
};
use axum::{
    Extension, Router,
    body::Body,
    extract::{DefaultBodyLimit, Request},
    http::Method,
    response::{IntoResponse, Response},
};
use leptos::server_fn::ServerFn;
use leptos_axum::handle_server_fns_with_context;
use tower_http::services::ServeDir;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{
    callbacks::lifecycle_callback,
    cors,
    declared::{DeclaredRoute, DeclaredRouter},
    descriptor::descriptor,
    forge_events::forge_event,
    forge_product_events::receive_product_event,
    health::healthz,
    page_render,
    proof::{
        AdminPage, ApiCaller, ContextCaller, ForgeEventProof, ForgeProductEventProof, HostPage, LifecycleProof,
        ProofKind, Public, WebhookProof,
    },
    render_tasks::{self, with_render_tasks},
    security_headers::ScriptNonce,
    webhook_receiver::receive,
};
use crate::{
    api::AppBackend,
    connect::{
        descriptor::Descriptor,
        forge_event::ForgeEvent,
        forge_modules::{ForgeModule, PRODUCT_EVENTS_PATH},
        lifecycle::LifecycleEvent,
        webhook::MAX_WEBHOOK_BODY,
    },
    console::{self, LoginThrottle, Operator, login, views, webhook_views},
    error::{Error, Result},
    state::AppState,
    store::Pool,
};

/// Lifecycle bodies are a few hundred bytes; anything near this is an attack.
const LIFECYCLE_BODY_LIMIT: usize = 64 * 1024;

pub(crate) fn declare(state: &AppState) -> Result<(Router<AppState>, Vec<DeclaredRoute>)> {
    let leptos = LeptosHandlers::new(state);
    let routes = DeclaredRouter::new(state)
        .get::<Public, _, _>("/atlassian-connect.json", descriptor)
        .get::<Public, _, _>("/healthz", healthz)
        // Brotli or gzip copies, by the browser's Accept-Encoding, when the build wrote them.
        .files::<Public>("/pkg", ServeDir::new(pkg_dir(state)).precompressed_br().precompressed_gzip())
        // Leptos pages: the landing page, the iframe modules and their client-side routes.
        .get::<Public, _, _>("/", leptos.page())
        .get::<HostPage, _, _>("/app", leptos.page())
        .get::<HostPage, _, _>("/app/notes", leptos.page()) // demo
        .get::<HostPage, _, _>("/app/help", leptos.page())
        .get::<HostPage, _, _>("/app/activity", leptos.page()) // demo
        .get::<AdminPage, _, _>("/admin", leptos.page())
        .merge(vendor_pages(state, &leptos))
        // Server functions.
        .post::<Public, _, _>(AppInfo::PATH, leptos.server_fn())
        .merge(api(state, &leptos))
        .post::<ContextCaller, _, _>(RenewSession::PATH, leptos.server_fn())
        .merge(lifecycle_callbacks(state))
        .merge(forge_endpoints(state))
        .merge(webhook_receivers(state))
        .merge(operator_console(state));
    check_coverage(routes.declared(), &state.descriptor)?;
    Ok(routes.into_parts())
}

/// The server functions a page calls with its proof: from a Connect page
/// (same origin), and from a Forge page, whose browser calls cross-origin
/// with the page's FIT, so these alone answer CORS (`http::cors`).
fn api(state: &AppState, leptos: &LeptosHandlers) -> DeclaredRouter {
    DeclaredRouter::new(state)
        .post::<ApiCaller, _, _>(GetIdentity::PATH, leptos.server_fn())
        .post::<ApiCaller, _, _>(DisplayName::PATH, leptos.server_fn())
        .post::<ApiCaller, _, _>(ListNotes::PATH, leptos.server_fn()) // demo
        .post::<ApiCaller, _, _>(CreateNote::PATH, leptos.server_fn()) // demo
        .post::<ApiCaller, _, _>(UpdateNote::PATH, leptos.server_fn()) // demo
        .post::<ApiCaller, _, _>(DeleteNote::PATH, leptos.server_fn()) // demo
        .post::<ApiCaller, _, _>(LinkNote::PATH, leptos.server_fn()) // demo
        .post::<ApiCaller, _, _>(GetInstallStatus::PATH, leptos.server_fn())
        .post::<ApiCaller, _, _>(ListActivity::PATH, leptos.server_fn()) // demo
        .post::<ApiCaller, _, _>(ShareNote::PATH, leptos.server_fn()) // demo
        .merge(vendor_functions(state, leptos))
        .cors(cors::for_page_calls(state.config.forge.page_origins.clone()))
}

/// The vendor's pages (`app/src/vendor/`), each a tab of the general page.
fn vendor_pages(state: &AppState, leptos: &LeptosHandlers) -> DeclaredRouter {
    vendor::PAGES
        .iter()
        .fold(DeclaredRouter::new(state), |routes, page| routes.get::<HostPage, _, _>(page.path, leptos.page()))
}

/// The vendor's server functions, with the proof `app/src/vendor/mod.rs` gives each.
fn vendor_functions(state: &AppState, leptos: &LeptosHandlers) -> DeclaredRouter {
    vendor::SERVER_FUNCTIONS.iter().fold(DeclaredRouter::new(state), |routes, (path, proof)| match proof {
        vendor::Proof::Caller => routes.post::<ApiCaller, _, _>(path, leptos.server_fn()),
        vendor::Proof::Public => routes.post::<Public, _, _>(path, leptos.server_fn()),
    })
}

/// `/installed`, `/uninstalled`, `/enabled`, `/disabled`, from the one list of events.
fn lifecycle_callbacks(state: &AppState) -> DeclaredRouter {
    LifecycleEvent::ALL
        .iter()
        .fold(DeclaredRouter::new(state), |routes, event| {
            routes.post::<LifecycleProof, _, _>(event.path(), lifecycle_callback)
        })
        .layer(DefaultBodyLimit::max(LIFECYCLE_BODY_LIMIT))
}

/// The remote endpoints Forge delivers lifecycle events, the scheduled
/// trigger and product events to, from the one list the manifest also
/// reads. Each proof admits only the FIT of the module that delivers there.
fn forge_endpoints(state: &AppState) -> DeclaredRouter {
    let lifecycle = ForgeEvent::ALL
        .iter()
        .fold(DeclaredRouter::new(state), |routes, event| {
            routes.post::<ForgeEventProof, _, _>(event.path(), forge_event)
        })
        .layer(DefaultBodyLimit::max(LIFECYCLE_BODY_LIMIT));
    let product = DeclaredRouter::new(state)
        .post::<ForgeProductEventProof, _, _>(PRODUCT_EVENTS_PATH, receive_product_event)
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY));
    lifecycle.merge(product)
}

/// One route per webhook of the descriptor, at the URL the descriptor gives it.
fn webhook_receivers(state: &AppState) -> DeclaredRouter {
    let webhooks = state.descriptor.webhooks();
    webhooks
        .iter()
        .fold(DeclaredRouter::new(state), |routes, (_, path)| routes.post::<WebhookProof, _, _>(path, receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY))
}

/// The operator console, inside its cookie session. Logging in is public:
/// it is how an operator gets the proof.
fn operator_console(state: &AppState) -> DeclaredRouter {
    let throttle = Arc::new(LoginThrottle::default());
    let routes = DeclaredRouter::new(state)
        .get::<Operator, _, _>("/console", views::list)
        .get::<Public, _, _>("/console/login", login::form)
        .post::<Public, _, _>("/console/login", login::submit)
        .post::<Operator, _, _>("/console/logout", login::logout)
        .get::<Operator, _, _>("/console/installations/{tenant}", views::detail)
        .get::<Operator, _, _>("/console/orphans", views::orphans)
        .post::<Operator, _, _>("/console/orphans/{tenant}/purge", views::purge_now)
        .get::<Operator, _, _>("/console/keys", views::keys)
        .get::<Operator, _, _>("/console/webhooks", webhook_views::list)
        .post::<Operator, _, _>("/console/webhooks/{id}/retry", webhook_views::retry)
        .layer(Extension(throttle));
    match &state.db.pool {
        Pool::Sqlite(pool) => routes.layer(console::sessions(SqliteStore::new(pool.clone()), &state.config)),
        Pool::Postgres(pool) => routes.layer(console::sessions(PostgresStore::new(pool.clone()), &state.config)),
    }
}

fn pkg_dir(state: &AppState) -> std::path::PathBuf {
    std::path::Path::new(state.leptos.site_root.as_ref()).join(state.leptos.site_pkg_dir.as_ref())
}

type Responding = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// The two handlers Leptos provides, with the app's backend in their context.
struct LeptosHandlers {
    backend: Arc<AppBackend>,
    /// The bundle's tags, written once for every page route.
    scripts: Arc<BundleScripts>,
}

/// Each resource's server functions find their backend in the context (`app::api::backend::serve`).
fn provide_backends(backend: &Arc<AppBackend>) {
    use leptos::prelude::provide_context;
    provide_context::<SharedMeBackend>(backend.clone());
    provide_context::<SharedNotesBackend>(backend.clone()); // demo
    provide_context::<SharedAdminBackend>(backend.clone());
    provide_context::<SharedSessionBackend>(backend.clone());
    provide_context::<SharedActivityBackend>(backend.clone()); // demo
    provide_context::<SharedServices>(backend.clone());
}

impl LeptosHandlers {
    fn new(state: &AppState) -> Self {
        render_tasks::init();
        let scripts = BundleScripts::new(&state.leptos);
        Self { backend: Arc::new(AppBackend::new(state.clone())), scripts }
    }

    fn context(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let backend = self.backend.clone();
        move || provide_backends(&backend)
    }

    /// Server-side rendering of the page at the request's path, in one
    /// piece with the tasks its resources spawn (`render_tasks`). The query
    /// is dropped first: no page reads it on the server, and the host's JWT
    /// in it, verified by then, has no business in the render (parsing it
    /// was a twentieth of a page's time).
    fn page(&self) -> impl Fn(Request<Body>) -> Responding + Clone + Send + Sync + 'static {
        let scripts = self.scripts.clone();
        let context = self.context();
        move |request: Request<Body>| {
            let (mut parts, _) = request.into_parts();
            without_query(&mut parts.uri);
            // The page's inline script carries the nonce its response's policy names.
            let nonce = leptos::nonce::Nonce::new();
            let page_context = {
                let (context, nonce) = (context.clone(), nonce.clone());
                move || {
                    context();
                    leptos::prelude::provide_context(nonce);
                }
            };
            let render = page_render::render(parts, page_context, {
                let scripts = scripts.clone();
                move || shell(scripts)
            });
            Box::pin(async move {
                let mut response = with_render_tasks(render).await;
                response.extensions_mut().insert(ScriptNonce(nonce.to_string()));
                // A page renders in one poll; answering after one yield lets the
                // worker first serve the other connections whose requests are
                // ready, so under load answers leave in bursts and the client is
                // woken per burst, not per page (side by side: 0.5 context
                // switches a page instead of 0.8, and 10-15% more pages a second).
                tokio::task::yield_now().await;
                response
            }) as Responding
        }
    }

    /// The server function registered at the request's path.
    fn server_fn(&self) -> impl Fn(Request<Body>) -> Responding + Clone + Send + Sync + 'static {
        let context = self.context();
        move |request: Request<Body>| {
            let context = context.clone();
            Box::pin(async move { handle_server_fns_with_context(context, request).await.into_response() })
                as Responding
        }
    }
}

fn without_query(uri: &mut axum::http::Uri) {
    let Some(path) = uri.path_and_query().filter(|pq| pq.query().is_some()).map(|pq| pq.path()) else { return };
    let Ok(path) = path.parse() else { return };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path);
    if let Ok(path_only) = axum::http::Uri::from_parts(parts) {
        *uri = path_only;
    }
}

/// Fails startup when something the app serves has no declaration, or a
/// declaration that does not fit it.
pub fn check_coverage(declared: &[DeclaredRoute], descriptor: &Descriptor) -> Result<()> {
    let has =
        |method: &Method, path: &str| declared.iter().find(|r| r.method == *method && r.path == path).map(|r| r.proof);
    let mut missing = BTreeSet::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        // Only `/api/public/` is public, and a session must not renew itself.
        let expected = match path {
            _ if path.starts_with(PUBLIC_PREFIX) => Some(ProofKind::Public),
            _ if path == RenewSession::PATH => Some(ProofKind::ContextCaller),
            _ => None,
        };
        match (has(&method, path), expected) {
            (None, _) => missing.insert(format!("server function {method} {path}")),
            (Some(kind), Some(expected)) if kind != expected => {
                missing.insert(format!("server function {method} {path} as {expected:?}"))
            }
            (Some(ProofKind::Public), None) => missing.insert(format!("server function {method} {path} as not Public")),
            _ => false,
        };
    }
    for path in Page::paths() {
        if has(&Method::GET, path).is_none() {
            missing.insert(format!("page GET {path}"));
        }
    }
    let admin_modules = descriptor.admin_module_paths();
    for path in descriptor.module_paths() {
        let expected = if admin_modules.contains(&path) { ProofKind::AdminPage } else { ProofKind::HostPage };
        if has(&Method::GET, &path) != Some(expected) {
            missing.insert(format!("descriptor module GET {path} as {expected:?}"));
        }
    }
    for event in LifecycleEvent::ALL {
        if has(&Method::POST, event.path()) != Some(ProofKind::Lifecycle) {
            missing.insert(format!("lifecycle callback POST {} as Lifecycle", event.path()));
        }
    }
    for (event, path) in descriptor.webhooks() {
        if has(&Method::POST, &path) != Some(ProofKind::Webhook) {
            missing.insert(format!("webhook {event} POST {path} as Webhook"));
        }
    }
    for path in ForgeModule::ALL.into_iter().filter_map(ForgeModule::path) {
        if has(&Method::POST, path) != Some(ProofKind::ForgeEvent) {
            missing.insert(format!("Forge endpoint POST {path} as ForgeEvent"));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.into_iter().collect::<Vec<_>>().join(", ");
    Err(Error::Config(format!("routes without a proof declaration in server/src/http/routes.rs: {list}")))
}
