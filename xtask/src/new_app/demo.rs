//! `new-app --no-demo`: the copy without the notes and activity demo. The
//! house marks what is the demo's and this reads the marks:
//! - a path in [`FILES`] (a file, or a folder ending in `/`) is not copied;
//! - a line ending in `// demo` is left out, and so is every line from one
//!   that is `// demo:begin` to the next that is `// demo:end`;
//! - a line ending in `// no-demo: TEXT` becomes TEXT, at its indentation;
//! - a migration loses its statements about the demo's tables ([`TABLES`]).
//!   Migrations carry no marks: sqlx refuses to run again over a migration
//!   whose text changed after it was applied.
//!
//! Then [`leftovers`] looks for what an unmarked use of the demo left
//! behind, so it fails the generation, not the vendor's build.

use std::path::Path;

use anyhow::{Result, bail};

/// The demo's own files and folders.
pub(crate) const FILES: &[&str] = &[
    "app/src/api/activity.rs",
    "app/src/api/notes.rs",
    "app/src/pages/activity.rs",
    "app/src/pages/issue_link.rs",
    "app/src/pages/notes.rs",
    "app/src/pages/share.rs",
    "server/src/api/activity.rs",
    "server/src/api/notes.rs",
    "server/src/store/activity.rs",
    "server/src/store/notes.rs",
    "server/src/webhooks/activity.rs",
    "migrations/sqlite/0002_notes.sql",
    "migrations/sqlite/0008_note_links.sql",
    "migrations/postgres/0002_notes.sql",
    "migrations/postgres/0008_note_links.sql",
    "server/tests/it/browser_app.rs",
    "server/tests/it/personal_data.rs",
    "server/tests/it/database_faults.rs",
    "server/tests/it/isolation.rs",
    "server/tests/it/support/cluster_pair.rs",
    "server/tests/it/tenant_migration.rs",
];

/// The demo's tables, as the house's migrations name them.
const TABLES: &[&str] = &["notes", "notes_v9", "note_links", "activity"];

/// What only the demo says: a file that still does after stripping uses it
/// without a mark.
const DEMO_WORDS: &[&str] = &[
    "/api/notes",
    "/api/activity",
    "/app/notes",
    "/app/activity",
    "NotesView",
    "ActivityView",
    "RecordActivity",
    "NotesBackend",
    "ActivityBackend",
    "api::notes",
    "api::activity",
    "store::notes",
    "store::activity",
    "FROM notes",
    "INTO notes",
    "FROM activity",
    "INTO activity",
];

/// Whether `file` is the demo's own (left out whole).
pub(crate) fn is_demo_file(file: &Path) -> bool {
    let file = file.to_string_lossy();
    FILES.iter().any(|demo| if demo.ends_with('/') { file.starts_with(demo) } else { file == *demo })
}

/// `text` of `file` without the demo's marked lines or, for a migration,
/// its statements about the demo's tables.
pub(crate) fn strip(text: &str, file: &Path) -> Result<String> {
    if file.starts_with("migrations") && file.extension().is_some_and(|e| e == "sql") {
        return Ok(strip_sql(text));
    }
    let mut kept = Vec::new();
    let mut in_block = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        match (trimmed, in_block) {
            ("// demo:begin", None) => in_block = Some(number + 1),
            ("// demo:begin", Some(start)) => {
                bail!("{}:{}: demo:begin inside the block of line {start}", file.display(), number + 1)
            }
            ("// demo:end", Some(_)) => in_block = None,
            ("// demo:end", None) => bail!("{}:{}: demo:end without demo:begin", file.display(), number + 1),
            (_, Some(_)) => {}
            _ if trimmed.ends_with("// demo") => drop_its_docs(&mut kept),
            _ => kept.push(replaced(line)),
        }
    }
    if let Some(start) = in_block {
        bail!("{}:{start}: demo:begin is never ended", file.display());
    }
    let mut out = kept.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// The doc comments and attributes of an item left out go with it.
fn drop_its_docs(kept: &mut Vec<String>) {
    while kept.last().is_some_and(|l| l.trim_start().starts_with("///") || l.trim_start().starts_with("#[")) {
        kept.pop();
    }
}

/// A line marked `CODE // no-demo: TEXT` as TEXT, at the code's indentation.
fn replaced(line: &str) -> String {
    match line.split_once("// no-demo: ") {
        Some((code, text)) => format!("{}{text}", &code[..code.len() - code.trim_start().len()]),
        None => line.to_string(),
    }
}

/// A migration without the statements (and the comments before them) that
/// name a demo table. A statement ends on a line whose code ends in `;`.
fn strip_sql(text: &str) -> String {
    let mut out = String::new();
    let mut chunk = String::new();
    for line in text.split_inclusive('\n') {
        chunk.push_str(line);
        let code = line.split("--").next().unwrap_or("").trim_end();
        if code.ends_with(';') {
            out.push_str(&kept_sql(&chunk));
            chunk.clear();
        }
    }
    out.push_str(&chunk);
    out
}

/// A statement with its comments, or only the blank lines before it when it
/// is about a demo table.
fn kept_sql(chunk: &str) -> String {
    let code: String = chunk.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join(" ");
    let words = code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let about_demo = words.into_iter().any(|w| TABLES.contains(&w));
    if !about_demo {
        return chunk.to_string();
    }
    chunk.lines().take_while(|l| l.trim().is_empty()).map(|l| format!("{l}\n")).collect()
}

/// Each line of `text` that still speaks of the demo, as `file:line: text`.
pub(crate) fn leftovers(file: &Path, text: &str) -> Vec<String> {
    let lines = text.lines().enumerate();
    let hits = lines.filter(|(_, line)| DEMO_WORDS.iter().any(|w| line.contains(w)));
    hits.map(|(n, line)| format!("{}:{}: {}", file.display(), n + 1, line.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_lines_and_blocks_go_and_a_replacement_takes_its_lines_place() {
        let text = concat!(
            "a\n  /// B.\n  #[b]\n  b // demo\n// demo:begin\nc\n// demo:end\n",
            "    use x::Y6; // no-demo: use x::Y5;\nd\n"
        );
        assert_eq!(strip(text, Path::new("x.rs")).unwrap(), "a\n    use x::Y5;\nd\n");
        for (bad, said) in [
            ("// demo:begin\n", "never ended"),
            ("// demo:end\n", "without"),
            ("// demo:begin\n// demo:begin\n", "inside"),
        ] {
            let error = strip(bad, Path::new("x.rs")).unwrap_err().to_string();
            assert!(error.contains(said), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_migration_loses_the_statements_about_demo_tables_and_keeps_the_rest() {
        let sql = "-- jobs\nCREATE TABLE jobs (id INT);\n\n-- the demo's\nCREATE TABLE activity (\n    id INT\n);\n\
                   CREATE INDEX activity_by_tenant ON activity (id);\nUPDATE s SET n = 1 WHERE name = 'notes_v9';\n\
                   ALTER TABLE jobs ADD COLUMN activity_count INT; -- not the demo's\n";
        let stripped = strip(sql, Path::new("migrations/sqlite/0007_x.sql")).unwrap();
        let kept = "-- jobs\nCREATE TABLE jobs (id INT);\n\nALTER TABLE jobs ADD COLUMN activity_count INT;";
        assert_eq!(stripped, format!("{kept} -- not the demo's\n"));
    }

    #[test]
    fn the_demos_files_are_named_and_its_words_found() {
        assert!(is_demo_file(Path::new("app/src/api/notes.rs")));
        assert!(!is_demo_file(Path::new("app/src/api/me.rs")));
        assert_eq!(
            leftovers(Path::new("a.rs"), "ok\n  post(\"/api/notes/list\")\n"),
            ["a.rs:2: post(\"/api/notes/list\")"]
        );
        // A checkout has all of the demo or, made with --no-demo, none of it.
        let present: Vec<_> = FILES.iter().filter(|f| Path::new("..").join(f).exists()).collect();
        assert!(present.is_empty() || present.len() == FILES.len(), "only some of the demo's files: {present:?}");
    }
}
