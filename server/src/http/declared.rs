//! The only way to add a route: together with the proof it accepts. Each
//! route runs `proof::require::<P>` before its handler, and the builder keeps
//! the list of what it declared, which startup checks for coverage and the
//! route test walks. The axum router inside is never handed out unfinished.

use axum::{
    Router,
    handler::Handler,
    http::Method,
    middleware::from_fn_with_state,
    routing::{MethodRouter, get, post},
};
use tower_http::services::ServeDir;

use super::proof::{Proof, ProofKind, require};
use crate::state::AppState;

/// One declared route: method, path (axum syntax) and the proof it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredRoute {
    pub method: Method,
    pub path: String,
    pub proof: ProofKind,
}

pub struct DeclaredRouter {
    router: Router<AppState>,
    routes: Vec<DeclaredRoute>,
    state: AppState,
}

impl DeclaredRouter {
    pub(crate) fn new(state: &AppState) -> Self {
        Self { router: Router::new(), routes: Vec::new(), state: state.clone() }
    }

    pub(crate) fn get<P: Proof, H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on::<P>(Method::GET, path, get(handler))
    }

    pub(crate) fn post<P: Proof, H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.on::<P>(Method::POST, path, post(handler))
    }

    /// Static files under `prefix` (any path below it, `GET`).
    pub(crate) fn files<P: Proof>(mut self, prefix: &str, dir: ServeDir) -> Self {
        let files =
            Router::new().nest_service(prefix, dir).route_layer(from_fn_with_state(self.state.clone(), require::<P>));
        self.router = self.router.merge(files);
        self.routes.push(DeclaredRoute { method: Method::GET, path: format!("{prefix}/{{*file}}"), proof: P::KIND });
        self
    }

    pub(crate) fn merge(mut self, other: DeclaredRouter) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self
    }

    /// Wraps every route declared so far, e.g. in a session or body limit.
    pub(crate) fn wrap(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    pub(crate) fn declared(&self) -> &[DeclaredRoute] {
        &self.routes
    }

    pub(crate) fn into_parts(self) -> (Router<AppState>, Vec<DeclaredRoute>) {
        (self.router, self.routes)
    }

    fn on<P: Proof>(mut self, method: Method, path: &str, route: MethodRouter<AppState>) -> Self {
        let route = route.route_layer(from_fn_with_state(self.state.clone(), require::<P>));
        self.router = self.router.route(path, route);
        self.routes.push(DeclaredRoute { method, path: path.to_string(), proof: P::KIND });
        self
    }
}
