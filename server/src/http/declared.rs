//! The only way to add a route: together with the proof it accepts. Each
//! route runs `proof::require::<P>` before its handler, and the builder keeps
//! the list of what it declared, which startup checks for coverage and the
//! route test walks. The axum router inside is never handed out unfinished.

use std::convert::Infallible;

use axum::{
    Router,
    extract::Request,
    handler::Handler,
    http::Method,
    middleware::from_fn_with_state,
    response::IntoResponse,
    routing::{MethodRouter, Route, get, post},
};
use tower::{Layer, Service};
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

    /// Wraps every route declared so far in `layer` (a session, a body
    /// limit). A layer adds behaviour, never a route.
    pub(crate) fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// Answers CORS on every route declared so far (`http::cors`): the
    /// layer answers a preflight itself, before any proof, so each route's
    /// `OPTIONS` is declared public here, where the routes are.
    pub(crate) fn cors(mut self, cors: tower_http::cors::CorsLayer) -> Self {
        let preflights: Vec<DeclaredRoute> = self
            .routes
            .iter()
            .map(|r| DeclaredRoute { method: Method::OPTIONS, path: r.path.clone(), proof: ProofKind::Public })
            .collect();
        self.routes.extend(preflights);
        self.router = self.router.layer(cors);
        self
    }

    pub(crate) fn declared(&self) -> &[DeclaredRoute] {
        &self.routes
    }

    pub(crate) fn into_parts(self) -> (Router<AppState>, Vec<DeclaredRoute>) {
        (self.router, self.routes)
    }

    fn on<P: Proof>(mut self, method: Method, path: &str, route: MethodRouter<AppState>) -> Self {
        // `layer`, not `route_layer`: a request with another method meets the
        // proof first too, so its 405 goes only to a caller who has it.
        let route = route.layer(from_fn_with_state(self.state.clone(), require::<P>));
        self.router = self.router.route(path, route);
        self.routes.push(DeclaredRoute { method, path: path.to_string(), proof: P::KIND });
        self
    }
}
