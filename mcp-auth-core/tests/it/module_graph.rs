//! The crate's modules import each other without cycles: an edge goes from a
//! module to every other module whose items it names (`crate::…`, `super::…`,
//! or a child by name), leaving out a module's uses of its own ancestors (a
//! parent declares the items its children share). The proxy rebuild exists
//! because `http/proxy.rs`, `relay.rs`, `broker/` and `store.rs` imported each
//! other in a cycle; this keeps it from coming back anywhere in `src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

pub(crate) fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code without comments and without the unit-test module.
pub(crate) fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path that starts at `crate::` or `super::` (groups `{a, b::c}` expanded
/// to their first segments). A macro's `$crate::` path is not an import of the
/// module that defines the macro: it resolves where the macro expands.
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for root in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let before_ok = rest[..at]
                .chars()
                .last()
                .is_none_or(|c| !is_ident(c) && c != ':' && c != '$');
            let mut tail = &rest[at + root.len()..];
            rest = tail;
            if !before_ok {
                continue;
            }
            let mut segments = Vec::new();
            let mut supers = 0;
            loop {
                if let Some(group) = tail.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let first: String =
                            item.trim().chars().take_while(|c| is_ident(*c)).collect();
                        if !first.is_empty() {
                            let mut p = segments.clone();
                            p.push(first);
                            found.push((root.to_owned(), supers_prefix(supers, p)));
                        }
                    }
                    break;
                }
                let ident: String = tail.chars().take_while(|c| is_ident(*c)).collect();
                if ident.is_empty() {
                    break;
                }
                tail = &tail[ident.len()..];
                if ident == "super" && segments.is_empty() {
                    supers += 1;
                } else {
                    segments.push(ident);
                }
                match tail.strip_prefix("::") {
                    Some(t) => tail = t,
                    None => {
                        found.push((root.to_owned(), supers_prefix(supers, segments.clone())));
                        break;
                    }
                }
            }
        }
    }
    found
}

fn supers_prefix(extra_supers: usize, mut segments: Vec<String>) -> Vec<String> {
    for _ in 0..extra_supers {
        segments.insert(0, "super".into());
    }
    segments
}

/// The deepest known module a path names, from module `from`.
fn resolve(
    modules: &BTreeSet<Module>,
    from: &Module,
    root: &str,
    segments: &[String],
) -> Option<Module> {
    let mut base: Module = if root == "crate::" {
        Vec::new()
    } else {
        let mut parent = from.clone();
        parent.pop()?;
        parent
    };
    let mut iter = segments.iter().peekable();
    while iter.peek().is_some_and(|s| *s == "super") {
        base.pop()?;
        iter.next();
    }
    let mut best = base.clone();
    for segment in iter {
        base.push(segment.clone());
        if modules.contains(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    Some(best)
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        let text = code(&std::fs::read_to_string(file).expect("read"));
        let mut targets = BTreeSet::new();
        for (root, segments) in paths(&text) {
            if let Some(to) = resolve(&modules, &from, &root, &segments) {
                targets.insert(to);
            }
        }
        // Children named directly (`broker::routes`, `use cookies::Cookies`).
        for child in modules
            .iter()
            .filter(|m| m.len() == from.len() + 1 && m.starts_with(&from))
        {
            let name = &child[from.len()];
            if text.contains(&format!("{name}::")) {
                targets.insert(child.clone());
            }
        }
        targets.retain(|to| to != &from && !from.starts_with(to));
        edges.entry(from).or_default().extend(targets);
    }
    edges
}

fn find_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<Module, u8>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next) {
                Some(1) => {
                    let start = stack.iter().position(|m| m == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node)
            && let Some(c) = visit(node, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_module_of_the_crate_is_part_of_an_import_cycle() {
    let edges = graph();
    assert!(
        edges.len() > 40,
        "the graph covers src/: {} modules",
        edges.len()
    );
    let proxy: Module = vec!["proxy".into()];
    let relay: Module = vec!["proxy".into(), "relay".into()];
    assert!(
        edges[&relay].contains(&vec!["proxy".into(), "pass_through".into()]),
        "the scan sees imports: {:?}",
        edges[&relay]
    );
    assert!(
        edges[&vec!["oauth".into(), "routes".into()]]
            .iter()
            .all(|m| !m.starts_with(&proxy))
    );
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_scan_finds_a_cycle_when_there_is_one() {
    let mut edges = graph();
    let a: Module = vec!["proxy".into(), "relay".into()];
    let b: Module = vec!["proxy".into(), "pass_through".into()];
    edges.entry(b).or_default().insert(a);
    assert!(find_cycle(&edges).is_some());
}
