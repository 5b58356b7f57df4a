//! Server-rendered HTML for the console: one layout, and escaping for every
//! value that comes from the database or the request.

use ids::UnixTime;

/// The app's one HTML escaper (`html-escape`): safe in text and in quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

/// A whole page. `operator` and `csrf` are present once logged in (the
/// logout button needs the CSRF token too).
pub(crate) fn page(title: &str, operator: Option<(&str, &str)>, body: &str) -> String {
    let nav = match operator {
        Some((name, csrf)) => format!(
            r#"<nav class="tabs"><a href="/console">Installations</a><a href="/console/orphans">Orphans</a>
<a href="/console/keys">Encryption keys</a><a href="/console/webhooks">Webhooks</a>
<form method="post" action="/console/logout" class="inline"><input type="hidden" name="csrf" value="{}">
<button class="button subtle" id="logout">Log out {}</button></form></nav>"#,
            escape(csrf),
            escape(name)
        ),
        None => String::new(),
    };
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Operator console</title><link rel="stylesheet" href="/pkg/frontend.css"></head>
<body>{nav}<main class="page console"><h1>{title}</h1>{body}</main></body></html>"#,
        title = escape(title)
    )
}

/// A table with its column headings; `rows` is already markup.
pub(crate) fn table(id: &str, headings: &[&str], rows: &str) -> String {
    let headings: String = headings.iter().map(|h| format!("<th>{}</th>", escape(h))).collect();
    format!(r#"<table class="table" id="{id}"><thead><tr>{headings}</tr></thead><tbody>{rows}</tbody></table>"#)
}

/// One table row of cells that are already markup.
pub(crate) fn row(cells: &[String]) -> String {
    let cells: String = cells.iter().map(|c| format!("<td>{c}</td>")).collect();
    format!("<tr>{cells}</tr>")
}

/// Unix seconds as UTC, or a dash.
pub(crate) fn time(at: Option<UnixTime>) -> String {
    at.map(app::pages::status::format_time).unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            super::escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;"
        );
    }
}
