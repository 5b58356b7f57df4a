//! Which proof each route demands, decided in one place from the path
//! (threat H-09: a route that forgets to authenticate is impossible, and a
//! test enumerates every route against this table).
//! - module URLs from the descriptor: the host's iframe page JWT (`?jwt=`);
//!   admin modules also need a site administrator;
//! - `/api/…` server functions: a session token or a context JWT, except
//!   the deliberately public `/api/public/…`;
//! - lifecycle callbacks authenticate themselves (their rules differ per event);
//! - the operator console checks its own cookie session on every page;
//! - everything else (descriptor, health, static assets, landing page) is public.

use app::api::PUBLIC_PREFIX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteAuth {
    Public,
    /// Checked inside the lifecycle handlers.
    Lifecycle,
    HostPage { admin: bool },
    Api,
    /// The operator console: its own cookie session, checked by each page.
    Console,
}

#[derive(Clone, Debug)]
pub struct RouteTable {
    pub page_paths: Vec<String>,
    pub admin_paths: Vec<String>,
}

impl RouteTable {
    pub fn auth_for(&self, path: &str) -> RouteAuth {
        let under = |base: &String| path == base || path.strip_prefix(base.as_str()).is_some_and(|rest| rest.starts_with('/'));
        if self.admin_paths.iter().any(under) {
            RouteAuth::HostPage { admin: true }
        } else if self.page_paths.iter().any(under) {
            RouteAuth::HostPage { admin: false }
        } else if path.starts_with("/api/") && !path.starts_with(PUBLIC_PREFIX) {
            RouteAuth::Api
        } else if path == crate::console::PREFIX || path.starts_with("/console/") {
            RouteAuth::Console
        } else if matches!(path, "/installed" | "/uninstalled" | "/enabled" | "/disabled") {
            RouteAuth::Lifecycle
        } else {
            RouteAuth::Public
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable { page_paths: vec!["/app".into(), "/admin".into()], admin_paths: vec!["/admin".into()] }
    }

    #[test]
    fn each_kind_of_route_gets_its_proof() {
        let t = table();
        assert_eq!(t.auth_for("/app"), RouteAuth::HostPage { admin: false });
        assert_eq!(t.auth_for("/app/notes"), RouteAuth::HostPage { admin: false });
        assert_eq!(t.auth_for("/admin"), RouteAuth::HostPage { admin: true });
        assert_eq!(t.auth_for("/api/notes/list"), RouteAuth::Api);
        assert_eq!(t.auth_for("/api/anything"), RouteAuth::Api);
        assert_eq!(t.auth_for("/api/public/app_info"), RouteAuth::Public);
        assert_eq!(t.auth_for("/installed"), RouteAuth::Lifecycle);
        assert_eq!(t.auth_for("/console"), RouteAuth::Console);
        assert_eq!(t.auth_for("/console/orphans"), RouteAuth::Console);
        for public in ["/", "/healthz", "/atlassian-connect.json", "/pkg/frontend.js", "/apps", "/administrator"] {
            assert_eq!(t.auth_for(public), RouteAuth::Public, "{public}");
        }
    }
}
