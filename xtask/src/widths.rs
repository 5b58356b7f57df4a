//! No line of Rust longer than `rustfmt.toml`'s 120 columns: rustfmt leaves
//! strings and macro bodies alone, so this catches what it cannot wrap.

use std::path::Path;

use anyhow::{Result, bail};

use crate::sources::{CRATE_DIRS, rust_files};

const MAX_COLUMNS: usize = 120;

pub fn check() -> Result<()> {
    let mut long = Vec::new();
    for dir in CRATE_DIRS {
        for (path, text) in rust_files(Path::new(dir))? {
            let over = text.lines().enumerate().filter(|(_, line)| line.chars().count() > MAX_COLUMNS);
            long.extend(over.map(|(number, _)| format!("{}:{}", path.display(), number + 1)));
        }
    }
    if !long.is_empty() {
        bail!("lines over {MAX_COLUMNS} columns:\n  {}", long.join("\n  "));
    }
    Ok(())
}
