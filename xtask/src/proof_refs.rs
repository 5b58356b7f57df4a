//! Every test `docs/threat-model.md` names as a proof must exist: a
//! `path/file.rs::test_name` in a table's last column is a function of that
//! file (`::other` right after names another in the same file, and
//! `::sqlite` / `::postgres` after a test wrapped in `on_both_databases!`
//! names its variant). A renamed test otherwise leaves a proof that proves
//! nothing.

use std::{collections::HashMap, fs};

use anyhow::{Context, Result, bail};

const DOC: &str = "docs/threat-model.md";

pub fn check() -> Result<()> {
    let doc = fs::read_to_string(DOC).with_context(|| format!("cannot read {DOC}"))?;
    let mut sources: HashMap<String, Option<String>> = HashMap::new();
    let mut read =
        |path: &str| sources.entry(path.to_string()).or_insert_with(|| fs::read_to_string(path).ok()).clone();
    let (mut checked, mut stale) = (0, Vec::new());
    for (number, line) in doc.lines().enumerate().filter(|(_, l)| l.trim_start().starts_with('|')) {
        let mut previous: Option<(String, String)> = None;
        for span in spans(last_column(line)) {
            let (path, name) = match reference(span, previous.as_ref()) {
                Some(Reference::Test(path, name)) => (path, name),
                Some(Reference::Variant) | None => continue,
            };
            checked += 1;
            match read(&path) {
                None => stale.push(format!("line {}: {path}::{name}: no such file", number + 1)),
                Some(text) if !defines(&text, &name) => {
                    stale.push(format!("line {}: {path}::{name}: no such test", number + 1))
                }
                Some(_) => {}
            }
            previous = Some((path, name));
        }
    }
    if !stale.is_empty() {
        bail!("{DOC} names tests that do not exist:\n  {}", stale.join("\n  "));
    }
    println!("xtask: the {checked} tests {DOC} names as proofs exist");
    Ok(())
}

/// `doc` with each test it names that `exists` denies replaced by a word
/// that its test went with the demo: what `new-app --no-demo` writes, so the
/// copy's threat model says which threats lost their proof there.
pub fn without_missing(doc: &str, exists: impl Fn(&str, &str) -> bool) -> String {
    let rows = doc.lines().map(|line| match line.trim_start().starts_with('|') {
        true => row_without_missing(line, &exists),
        false => line.to_string(),
    });
    let mut out = rows.collect::<Vec<_>>().join("\n");
    if doc.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn row_without_missing(line: &str, exists: &impl Fn(&str, &str) -> bool) -> String {
    let start = line.trim_end().trim_end_matches('|').rfind('|').map_or(0, |i| i + 1);
    let (head, last) = line.split_at(start);
    let mut out = head.to_string();
    let (mut previous, mut dropped) = (None::<(String, String)>, false);
    for (i, piece) in last.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(piece);
            continue;
        }
        match reference(piece, previous.as_ref()) {
            Some(Reference::Test(path, name)) => {
                let kept = exists(&path, &name);
                out += &match (kept, piece.starts_with("::") && dropped) {
                    (false, _) => "(its test went with the demo)".to_string(),
                    (true, true) => format!("`{path}::{name}`"),
                    (true, false) => format!("`{piece}`"),
                };
                (previous, dropped) = (Some((path, name)), !kept);
            }
            Some(Reference::Variant) if dropped => {}
            _ => out += &format!("`{piece}`"),
        }
    }
    out
}

enum Reference {
    Test(String, String),
    /// `::sqlite` or `::postgres` after a test: its variant, not another test.
    Variant,
}

/// What a backticked span names, given the test named before it in the row.
fn reference(span: &str, previous: Option<&(String, String)>) -> Option<Reference> {
    if let Some(name) = span.strip_prefix("::") {
        let (path, _) = previous?;
        if matches!(name, "sqlite" | "postgres") {
            return Some(Reference::Variant);
        }
        return is_name(name).then(|| Reference::Test(path.clone(), name.to_string()));
    }
    let (path, name) = span.split_once("::")?;
    (path.ends_with(".rs") && is_name(name)).then(|| Reference::Test(path.to_string(), name.to_string()))
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn defines(text: &str, name: &str) -> bool {
    text.contains(&format!("fn {name}(")) || text.contains(&format!("fn {name}<"))
}

fn last_column(line: &str) -> &str {
    line.trim().trim_matches('|').rsplit('|').next().unwrap_or_default()
}

/// The backticked spans of `text`.
fn spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_a_file_and_a_test_or_a_variant() {
        let row = "| a row | a | b | `a/b.rs::first`, `::second`, `::sqlite`; `c.rs::third` and `not::a.rs` |";
        let spans: Vec<&str> = spans(last_column(row)).collect();
        assert_eq!(spans, ["a/b.rs::first", "::second", "::sqlite", "c.rs::third", "not::a.rs"]);
        let first = ("a/b.rs".to_string(), "first".to_string());
        let second = reference("::second", Some(&first));
        assert!(matches!(second, Some(Reference::Test(p, n)) if p == "a/b.rs" && n == "second"));
        assert!(matches!(reference("::sqlite", Some(&first)), Some(Reference::Variant)));
        assert!(reference("::second", None).is_none(), "no file before it");
        assert!(reference("not::a.rs", None).is_none());
        assert!(defines("async fn first(kind: DbKind) {", "first") && !defines("fn firsts() {}", "first"));
    }

    #[test]
    fn a_proof_gone_with_the_demo_is_said_to_be_and_the_rest_kept() {
        let row = "| T-1 | `x.rs::kept` stays | `a.rs::gone`, `::sqlite`, `::next`; `b.rs::kept` |\n";
        let kept = |_: &str, name: &str| name != "gone";
        assert_eq!(
            without_missing(row, kept),
            "| T-1 | `x.rs::kept` stays | (its test went with the demo), , `a.rs::next`; `b.rs::kept` |\n"
        );
        assert_eq!(without_missing("text `a.rs::gone`\n", kept), "text `a.rs::gone`\n", "only tables' proofs");
    }
}
