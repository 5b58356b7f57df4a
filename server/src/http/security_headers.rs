//! Security headers on every response, whatever produced it (pages, API,
//! errors, 404s, panics, static assets): Atlassian's security requirements
//! (seed 004) plus framing rules. Module URLs may be framed by the Atlassian
//! hosts; nothing else may be framed at all.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// What decides the headers of one response.
#[derive(Clone, Debug)]
pub(crate) struct HeaderPolicy {
    /// Paths the host loads into its iframe (the descriptor's module URLs).
    pub iframe_paths: Vec<String>,
    /// CSP sources allowed to frame those pages.
    pub frame_ancestors: String,
    /// Extra script origin (Atlassian's all.js) the pages load.
    pub script_origin: String,
}

impl HeaderPolicy {
    pub(crate) fn is_iframe_page(&self, path: &str) -> bool {
        self.iframe_paths
            .iter()
            .any(|p| path == p || path.strip_prefix(p.as_str()).is_some_and(|rest| rest.starts_with('/')))
    }

    /// No inline script runs but the page's own, which carries the nonce of
    /// its response (a rendered page has one; nothing else has any). Written
    /// into one buffer: it is on every response.
    fn csp_for(&self, iframe_page: bool, nonce: Option<&ScriptNonce>) -> String {
        const REST: &str = "; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; \
                            object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors ";
        let ancestors = if iframe_page { self.frame_ancestors.as_str() } else { "'none'" };
        let mut csp = String::with_capacity(320 + self.script_origin.len() + ancestors.len());
        csp.push_str("default-src 'self'; script-src 'self'");
        if let Some(nonce) = nonce {
            csp.push_str(" 'nonce-");
            csp.push_str(&nonce.0);
            csp.push('\'');
        }
        csp.push_str(" 'wasm-unsafe-eval' ");
        csp.push_str(&self.script_origin);
        csp.push_str(REST);
        csp.push_str(ancestors);
        csp
    }
}

/// The nonce a rendered page put on its inline script, carried on the
/// response for the policy (base64url, from the page handler).
#[derive(Clone, Debug)]
pub(crate) struct ScriptNonce(pub String);

pub(crate) async fn apply(State(policy): State<Arc<HeaderPolicy>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let (iframe_page, cache) = (policy.is_iframe_page(path), cache_control(path));
    let mut response = next.run(request).await;
    let nonce = response.extensions_mut().remove::<ScriptNonce>();
    set_headers(response.headers_mut(), &policy.csp_for(iframe_page, nonce.as_ref()), cache);
    response
}

fn set_headers(headers: &mut HeaderMap, csp: &str, cache: &'static str) {
    let fixed = [
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, cache),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.remove(header::X_FRAME_OPTIONS);
    // The policy's parts were checked at start (config/), so this only fails
    // on a bug; a response without CSP would be worse than none at all.
    match HeaderValue::from_str(csp) {
        Ok(csp) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        Err(_) => {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
        }
    }
}

/// The bundle carries no tenant data: its content-hashed JS and wasm never
/// change under their names and are cached for a year; the rest of `/pkg`
/// may be cached if revalidated; everything else must never be stored
/// (seed 004).
fn cache_control(path: &str) -> &'static str {
    match path.strip_prefix("/pkg/") {
        Some(file) if is_hashed(file) => "public, max-age=31536000, immutable",
        Some(_) => "no-cache",
        None => "no-cache, no-store",
    }
}

/// `frontend.<16 hex>.js` or `frontend.<16 hex>_bg.wasm`.
fn is_hashed(file: &str) -> bool {
    let Some(rest) = file.strip_prefix("frontend.") else { return false };
    let (Some(hash), Some(ext)) = (rest.get(..16), rest.get(16..)) else { return false };
    hash.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(ext, ".js" | "_bg.wasm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_hashed_bundle_files_are_immutable() {
        assert_eq!(cache_control("/pkg/frontend.0123456789abcdef.js"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control("/pkg/frontend.0123456789abcdef_bg.wasm"), "public, max-age=31536000, immutable");
        for revalidated in ["/pkg/frontend.css", "/pkg/frontend.js", "/pkg/frontend.0123_bg.wasm", "/pkg/x.js"] {
            assert_eq!(cache_control(revalidated), "no-cache", "{revalidated}");
        }
        assert_eq!(cache_control("/app"), "no-cache, no-store");
        assert_eq!(cache_control("/api/me/identity"), "no-cache, no-store");
    }

    fn policy() -> HeaderPolicy {
        HeaderPolicy {
            iframe_paths: vec!["/app".into(), "/admin".into()],
            frame_ancestors: "https://*.atlassian.net https://*.jira.com".into(),
            script_origin: "https://connect-cdn.atl-paas.net".into(),
        }
    }

    #[test]
    fn module_urls_and_their_sub_paths_are_iframe_pages() {
        let p = policy();
        for path in ["/app", "/app/help", "/admin"] {
            assert!(p.is_iframe_page(path), "{path}");
        }
        for path in ["/", "/apps", "/administrator", "/api/x", "/installed"] {
            assert!(!p.is_iframe_page(path), "{path}");
        }
    }

    #[test]
    fn only_iframe_pages_may_be_framed_by_atlassian_hosts() {
        let p = policy();
        assert!(
            p.csp_for(p.is_iframe_page("/app"), None)
                .ends_with("frame-ancestors https://*.atlassian.net https://*.jira.com")
        );
        assert!(p.csp_for(p.is_iframe_page("/installed"), None).ends_with("frame-ancestors 'none'"));
    }

    #[test]
    fn inline_scripts_run_only_with_the_nonce_of_their_response() {
        let p = policy();
        let script_src = |csp: String| csp.split("; ").find(|d| d.starts_with("script-src")).unwrap().to_string();
        let page = script_src(p.csp_for(p.is_iframe_page("/app"), Some(&ScriptNonce("bm9uY2U".into()))));
        assert_eq!(page, "script-src 'self' 'nonce-bm9uY2U' 'wasm-unsafe-eval' https://connect-cdn.atl-paas.net");
        let other = script_src(p.csp_for(p.is_iframe_page("/api/me/identity"), None));
        assert_eq!(other, "script-src 'self' 'wasm-unsafe-eval' https://connect-cdn.atl-paas.net");
    }
}
