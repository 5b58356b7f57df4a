//! Which host base URLs may install the app (`CONNECT_HOST_ALLOWLIST`).
//! Patterns are `scheme://host[:port]` where a `*` host label stands for
//! exactly one DNS label and a `*` port for any port. URLs are parsed before
//! matching, so user-info, path or encoding tricks cannot smuggle in a host.

use url::Url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostAllowlist {
    patterns: Vec<HostPattern>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct HostPattern {
    scheme: String,
    labels: Vec<String>,
    port: PortPattern,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PortPattern {
    Default,
    Any,
    Exact(u16),
}

impl HostAllowlist {
    pub(crate) fn parse(spec: &str) -> Result<Self, String> {
        let patterns = spec
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(HostPattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if patterns.is_empty() {
            return Err("no pattern given".into());
        }
        Ok(Self { patterns })
    }

    /// True when `base_url` is a clean http(s) URL whose origin matches a pattern.
    pub(crate) fn allows(&self, base_url: &str) -> bool {
        let Ok(url) = Url::parse(base_url) else { return false };
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return false;
        }
        self.patterns.iter().any(|p| p.matches(&url))
    }

    /// True when a pattern names a loopback host (fine in development only).
    pub(crate) fn names_loopback(&self) -> bool {
        self.patterns.iter().any(|p| matches!(p.labels.join(".").as_str(), "localhost" | "127.0.0.1"))
    }
}

impl HostPattern {
    fn parse(pattern: &str) -> Result<Self, String> {
        let (scheme, rest) = pattern.split_once("://").ok_or_else(|| format!("{pattern:?} lacks a scheme"))?;
        if !matches!(scheme, "http" | "https") {
            return Err(format!("{pattern:?}: scheme must be http or https"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, PortPattern::Any),
            Some((host, port)) => {
                (host, PortPattern::Exact(port.parse().map_err(|_| format!("{pattern:?}: bad port"))?))
            }
            None => (rest, PortPattern::Default),
        };
        let labels: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
        let label_ok =
            |l: &String| l == "*" || (!l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !labels.iter().all(label_ok) {
            return Err(format!("{pattern:?}: a host label may be * or letters, digits and -"));
        }
        Ok(Self { scheme: scheme.into(), labels, port })
    }

    fn matches(&self, url: &Url) -> bool {
        if url.scheme() != self.scheme {
            return false;
        }
        let Some(host) = url.host_str() else { return false };
        let host_labels: Vec<&str> = host.split('.').collect();
        let host_ok = host_labels.len() == self.labels.len()
            && self.labels.iter().zip(&host_labels).all(|(p, h)| p == "*" || p == h);
        let port_ok = match self.port {
            PortPattern::Default => url.port().is_none(),
            PortPattern::Any => true,
            PortPattern::Exact(p) => url.port_or_known_default() == Some(p),
        };
        host_ok && port_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_list() -> HostAllowlist {
        HostAllowlist::parse("https://*.atlassian.net,https://*.jira.com").unwrap()
    }

    #[test]
    fn atlassian_sites_are_allowed_with_or_without_a_context_path() {
        let list = default_list();
        assert!(list.allows("https://acme.atlassian.net"));
        assert!(list.allows("https://acme.atlassian.net/wiki"));
        assert!(list.allows("https://ACME.atlassian.net/"));
        assert!(list.allows("https://legacy.jira.com"));
    }

    #[test]
    fn look_alike_and_tricked_urls_are_refused() {
        let list = default_list();
        for url in [
            "http://acme.atlassian.net",
            "https://atlassian.net",
            "https://a.b.atlassian.net",
            "https://acme.atlassian.net.evil.com",
            "https://evil.com/acme.atlassian.net",
            "https://acme.atlassian.net@evil.com",
            "https://user@acme.atlassian.net",
            "https://acme.atlassian.net:8443",
            "https://acme.atlassian.net/?x=1",
            "not a url",
            "",
        ] {
            assert!(!list.allows(url), "{url} must be refused");
        }
    }

    #[test]
    fn loopback_patterns_with_any_port_serve_tests_and_the_fake_host() {
        let list = HostAllowlist::parse("http://127.0.0.1:*").unwrap();
        assert!(list.allows("http://127.0.0.1:41234"));
        assert!(list.allows("http://127.0.0.1:41234/wiki"));
        assert!(!list.allows("http://127.0.0.2:41234"));
        assert!(!list.allows("https://127.0.0.1:41234"));
        assert!(list.names_loopback());
        assert!(!default_list().names_loopback());
    }

    #[test]
    fn malformed_patterns_are_rejected() {
        for spec in ["", "acme.atlassian.net", "ftp://*.x", "https://a b.com", "https://x.com:port"] {
            assert!(HostAllowlist::parse(spec).is_err(), "{spec:?}");
        }
    }
}
