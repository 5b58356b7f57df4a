//! No line of Rust longer than `rustfmt.toml`'s 120 columns: rustfmt leaves
//! strings and macro bodies alone, so this catches what it cannot wrap.

use std::{fs, path::Path};

use anyhow::{Context, Result, bail};

const MAX_COLUMNS: usize = 120;
const SOURCES: [&str; 5] = ["server", "app", "hostkit", "frontend", "xtask"];

pub fn check() -> Result<()> {
    let mut long = Vec::new();
    for dir in SOURCES {
        visit(Path::new(dir), &mut long)?;
    }
    if !long.is_empty() {
        bail!("lines over {MAX_COLUMNS} columns:\n  {}", long.join("\n  "));
    }
    Ok(())
}

fn visit(dir: &Path, long: &mut Vec<String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            visit(&path, long)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path)?;
            for (number, line) in text.lines().enumerate() {
                if line.chars().count() > MAX_COLUMNS {
                    long.push(format!("{}:{}", path.display(), number + 1));
                }
            }
        }
    }
    Ok(())
}
