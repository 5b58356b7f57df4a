//! Opening iframe pages and calling server functions as the browser does.

use hostkit::Tenant;
use serde_json::Value;

use super::app::TestApp;

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    /// The session token the page rendered into `<meta name="token">`.
    pub fn session_token(&self) -> Option<String> {
        let start = self.html.find(r#"<meta name="token" content=""#)? + r#"<meta name="token" content=""#.len();
        let end = self.html[start..].find('"')? + start;
        Some(self.html[start..end].to_string())
    }
}

impl TestApp {
    /// A new Jira Cloud tenant, installed with a signed install.
    pub async fn installed_tenant(&self) -> Tenant {
        let tenant = Tenant::new(&super::app::jira_site());
        assert_eq!(self.host.install(&tenant).await.status(), 204);
        tenant
    }

    /// GETs a module URL signed for `tenant` and `user`, as the host's iframe does.
    pub async fn open_page(&self, tenant: &Tenant, path: &str, params: &[(&str, &str)], user: Option<&str>) -> Page {
        self.get_page(&self.host.page_url(tenant, path, params, user)).await
    }

    pub async fn get_page(&self, url: &str) -> Page {
        let response = self.http.get(url).send().await.expect("page request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Page { status, headers, html: response.text().await.unwrap_or_default() }
    }

    /// Installs `tenant` and returns a session token for `user` from its `/app` page.
    pub async fn session_for(&self, tenant: &Tenant, user: &str) -> String {
        let page = self.open_page(tenant, "/app", &[], Some(user)).await;
        assert_eq!(page.status, 200, "the /app page did not open: {}", page.html);
        page.session_token().expect("a session token in the page")
    }

    /// POSTs a server function with form arguments and an optional
    /// `Authorization` value; returns the status and the JSON answer.
    pub async fn call(&self, path: &str, authorization: Option<&str>, form: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.http.post(self.url(path)).form(form);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("server function request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn call_as(&self, token: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.call(path, Some(&format!("JWT {token}")), form).await
    }
}
