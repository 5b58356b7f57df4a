//! The import-cycle gate: no module of `ids`, `server`, `app` or `hostkit` may
//! depend on a module that depends back on it, file by file and between
//! the top-level modules (`http` ↔ `console` would be a cycle even when no
//! two files import each other). Read from the sources: `use crate::…`,
//! `use super::…` and inline `crate::a::b` paths, tests excluded. A module
//! using its own parent (`super::` from `fake_host/control_panel.rs`) is a
//! part of that parent, not a cycle.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use anyhow::{Result, bail};

use crate::sources::rust_files;

const CRATES: [&str; 4] = ["ids", "server", "app", "hostkit"];

type Module = Vec<String>;
type Graph = BTreeMap<Module, BTreeSet<Module>>;

pub fn check() -> Result<()> {
    let mut found = Vec::new();
    for krate in CRATES {
        let files = modules(&Path::new(krate).join("src"))?;
        let graph = edges(&files)?;
        for cycle in cycles(&graph) {
            found.push(format!("{krate}: {}", names(&cycle)));
        }
        for cycle in cycles(&top_level(&graph)) {
            found.push(format!("{krate} (top-level modules): {}", names(&cycle)));
        }
    }
    if !found.is_empty() {
        bail!("import cycles between modules:\n  {}", found.join("\n  "));
    }
    println!("xtask: no import cycles in {}", CRATES.join(", "));
    Ok(())
}

fn names(cycle: &[Module]) -> String {
    cycle.iter().map(|m| if m.is_empty() { "lib".to_string() } else { m.join("/") }).collect::<Vec<_>>().join(", ")
}

/// Every `.rs` file under `src`, by module path (`mod.rs`, `lib.rs` and
/// `main.rs` name their folder).
fn modules(src: &Path) -> Result<BTreeMap<Module, String>> {
    let mut files = BTreeMap::new();
    for (path, text) in rust_files(src)? {
        let relative = path.strip_prefix(src)?.with_extension("");
        let mut module: Module = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            module.pop();
        }
        files.insert(module, text);
    }
    Ok(files)
}

fn edges(files: &BTreeMap<Module, String>) -> Result<Graph> {
    let mut graph = Graph::new();
    for (module, text) in files {
        let text = without_tests_and_comments(text);
        let mut targets = BTreeSet::new();
        for (root, path) in paths(&text) {
            let mut full = match root {
                "crate" => Vec::new(),
                _ => module[..module.len().saturating_sub(1)].to_vec(),
            };
            full.extend(path);
            if let Some(target) = longest_module(&full, files) {
                let is_ancestor = target.len() < module.len() && module.starts_with(&target);
                if target != *module && !is_ancestor {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    Ok(graph)
}

fn without_tests_and_comments(text: &str) -> String {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    code.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// `(root, path)` for every `crate::…`/`super::…` path, `use` trees expanded.
fn paths(text: &str) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("use ") {
        rest = &rest[at + 4..];
        let end = rest.find(';').unwrap_or(rest.len());
        // `a as b` keeps `a`: mark the rename before the spaces go.
        let tree = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ").replace(" as ", "@").replace(' ', "");
        for root in ["crate", "super"] {
            if let Some(tree) = tree.strip_prefix(&format!("{root}::")) {
                out.extend(expand(tree).into_iter().map(|p| (root, p)));
            }
        }
    }
    for root in ["crate", "super"] {
        let prefix = format!("{root}::");
        for (at, _) in text.match_indices(&prefix) {
            let before = text[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let segments = text[at + prefix.len()..].split("::").map(|seg| {
                seg.chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect::<String>()
            });
            out.push((root, segments.take_while(|seg| !seg.is_empty()).collect()));
        }
    }
    out
}

/// The paths a use tree names: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let Some(open) = tree.find('{') else {
        return vec![segments(tree)];
    };
    let prefix = segments(&tree[..open]);
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            ',' if depth == 0 => parts.push(std::mem::take(&mut current)),
            '{' | '}' => {
                depth += if c == '{' { 1 } else { -1 };
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts.iter().filter(|p| !p.is_empty()).flat_map(|p| expand(p)).map(|p| [prefix.clone(), p].concat()).collect()
}

fn segments(path: &str) -> Vec<String> {
    path.split("::")
        .map(|seg| seg.split('@').next().unwrap_or(seg).to_string())
        .filter(|seg| {
            !seg.is_empty()
                && seg != "self"
                && seg.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .collect()
}

fn longest_module(path: &[String], files: &BTreeMap<Module, String>) -> Option<Module> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|candidate| files.contains_key(candidate))
}

/// The same graph between top-level modules (`http/proof/x` counts as `http`).
fn top_level(graph: &Graph) -> Graph {
    let top = |m: &Module| m.first().cloned().into_iter().collect::<Module>();
    let mut out = Graph::new();
    for (from, targets) in graph {
        let entry = out.entry(top(from)).or_default();
        entry.extend(targets.iter().map(top).filter(|t| *t != top(from)));
    }
    out
}

/// Strongly connected components of more than one module (Tarjan).
fn cycles(graph: &Graph) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a Module) {
        let i = w.index.len();
        w.index.insert(v, i);
        w.low.insert(v, i);
        w.stack.push(v);
        for t in w.graph.get(v).into_iter().flatten() {
            if !w.index.contains_key(t) {
                visit(w, t);
                let low = w.low[v].min(w.low[t]);
                w.low.insert(v, low);
            } else if w.stack.contains(&t) {
                let low = w.low[v].min(w.index[t]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            while let Some(m) = w.stack.pop() {
                component.push(m.clone());
                if m == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                w.found.push(component);
            }
        }
    }
    let mut walk = Walk { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            visit(&mut walk, v);
        }
    }
    walk.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Module {
        path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    fn graph_of(files: &[(&str, &str)]) -> Graph {
        let files = files.iter().map(|(m, text)| (module(m), text.to_string())).collect();
        edges(&files).unwrap()
    }

    #[test]
    fn use_trees_expand_to_every_path() {
        assert_eq!(expand("a::{b,c::{d,e}}"), [module("a/b"), module("a/c/d"), module("a/c/e")]);
        assert_eq!(expand("state::AppState"), [module("state")]);
        assert_eq!(expand("store::{lifecycle@apply,self}"), [module("store/lifecycle"), module("store")]);
    }

    #[test]
    fn a_two_file_cycle_is_found_and_a_parent_is_not_one() {
        let g = graph_of(&[
            ("", "mod a; mod b;"),
            ("a", "use crate::b::Thing;"),
            ("b", "use crate::{a::Other, c};"),
            ("c", ""),
            ("d", "mod e;"),
            ("d/e", "use super::D;"),
        ]);
        assert_eq!(cycles(&g), vec![vec![module("a"), module("b")]]);
    }

    #[test]
    fn cycles_between_folders_are_found_even_without_a_file_cycle() {
        let g = graph_of(&[
            ("http/routes", "use crate::console::views;"),
            ("console/views", "let e = crate::http::error::X;"),
            ("console", ""),
            ("http", ""),
            ("http/error", ""),
            ("", ""),
        ]);
        assert!(cycles(&g).is_empty(), "no file imports the other back");
        assert_eq!(cycles(&top_level(&g)), vec![vec![module("console"), module("http")]]);
    }

    #[test]
    fn an_inline_super_path_is_a_dependency() {
        let g = graph_of(&[
            ("api", ""),
            ("api/client", "if super::renewal::soon() {}"),
            ("api/renewal", "use super::client;"),
        ]);
        assert_eq!(cycles(&g), vec![vec![module("api/client"), module("api/renewal")]]);
    }

    #[test]
    fn code_in_tests_and_comments_is_not_a_dependency() {
        let g =
            graph_of(&[("a", "// use crate::b;\n#[cfg(test)]\nmod tests { use crate::b; }"), ("b", "use crate::a;")]);
        assert!(cycles(&g).is_empty());
    }
}
