//! One public path per item (issue 15, item 4), checked on the source text as
//! `module_graph` checks import cycles; `cfg`-gated code counts as present, so the
//! rules hold for every feature set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::module_graph::{code, module_of, rust_files};

/// The public modules of mcp-auth-core, all declared in `lib.rs`; every other module is private.
const CORE_PUBLIC_MODULES: &[&str] = &[
    "__private",
    "claims",
    "dev_issuer",
    "env",
    "jwt",
    "oauth",
    "proxy",
    "rmcp",
];
const VENDORS: &[&str] = &["auth0", "workos", "supabase", "keycloak"];

/// Code of each file under a `src/`, by module path (`[]` is the crate root).
type Files = BTreeMap<Vec<String>, String>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(src: &Path) -> Files {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .iter()
        .map(|f| {
            (
                module_of(src, f),
                code(&std::fs::read_to_string(f).expect("read source")),
            )
        })
        .collect()
}

/// The top-level (column 0) `pub use` trees of `code`, whitespace collapsed.
fn pub_uses(code: &str) -> Vec<String> {
    let code = format!("\n{code}");
    code.match_indices("\npub use ")
        .map(|(at, m)| {
            let tail = &code[at + m.len()..];
            let tail = &tail[..tail.find(';').unwrap_or(tail.len())];
            tail.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// The names a `pub use` tree exports: `a::{b, c::D as E}` gives `b` and `E`; a glob gives `*`.
fn leaves(tree: &str) -> Vec<String> {
    tree.replace(['{', '}'], ",")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.ends_with("::"))
        .map(|p| match p.split_once(" as ") {
            Some((_, alias)) => alias.trim().to_owned(),
            None => p.rsplit("::").next().unwrap_or(p).to_owned(),
        })
        .collect()
}

/// `(kind, name)` of each item declared at the top level with a bare `pub`.
fn pub_items(code: &str) -> Vec<(String, String)> {
    const KINDS: [&str; 9] = [
        "fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod",
    ];
    code.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line
                .strip_prefix("pub ")?
                .split_whitespace()
                .take(5)
                .collect();
            let mut i = 0;
            while matches!(words.get(i), Some(&("async" | "unsafe")))
                || (words.get(i) == Some(&"const") && words.get(i + 1) == Some(&"fn"))
            {
                i += 1;
            }
            let kind = *words.get(i)?;
            let name: String = words
                .get(i + 1)?
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            KINDS.contains(&kind).then(|| (kind.to_owned(), name))
        })
        .collect()
}

/// Breaches of R1-R4 in one crate, whose public modules may only be `allowed`.
fn violations(files: &Files, allowed: &[&str]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut homes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (module, code) in files {
        let here = if module.is_empty() {
            "the crate root".to_owned()
        } else {
            module.join("::")
        };
        let public =
            module.is_empty() || (module.len() == 1 && allowed.contains(&module[0].as_str()));
        for (kind, name) in pub_items(code) {
            if kind == "mod" && !(module.is_empty() && allowed.contains(&name.as_str())) {
                errors.push(format!(
                    "`pub mod {name}` in {here}: only {allowed:?} are public, at the root; \
                     write `mod`/`pub(crate) mod` and re-export what users need"
                ));
            } else if kind != "mod" && public {
                homes.entry(name).or_default().push(here.clone());
            }
        }
        for tree in pub_uses(code) {
            if tree.ends_with('*') {
                errors.push(format!(
                    "glob `pub use {tree}` in {here}: name what is exported"
                ));
            }
            if public {
                for name in leaves(&tree) {
                    homes.entry(name).or_default().push(here.clone());
                }
            }
        }
        let lines: Vec<&str> = code.lines().collect();
        for (i, _) in lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("#[doc(hidden)]"))
        {
            // the item it hides: the next line that is neither blank (comments are gone) nor an attribute
            let next = lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("#["))
                .copied();
            if !next.is_some_and(|l| l.contains("pub mod __private") || l.contains("macro_rules!"))
            {
                errors.push(format!(
                    "`#[doc(hidden)]` on `{}` in {here}: hidden items are re-exported from `__private`",
                    next.unwrap_or("").trim()
                ));
            }
        }
    }
    for (name, at) in homes.into_iter().filter(|(_, at)| at.len() > 1) {
        errors.push(format!("`{name}` is public in {}", at.join(" and ")));
    }
    errors
}

/// Core's root names (items, re-exports, public modules), `__private` aside.
fn root_names(files: &Files) -> BTreeSet<String> {
    let root = &files[&Vec::<String>::new()];
    pub_items(root)
        .into_iter()
        .map(|(_, name)| name)
        .chain(pub_uses(root).iter().flat_map(|t| leaves(t)))
        .filter(|name| name != "__private")
        .collect()
}

/// Breaches of R5 in the facade's `src/lib.rs`.
fn facade_violations(facade: &str, core_root: &BTreeSet<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut from_core = BTreeSet::new();
    for tree in pub_uses(facade) {
        if tree.starts_with("mcp_auth_core::") {
            from_core.extend(leaves(&tree));
        } else if !VENDORS
            .iter()
            .any(|v| tree == format!("mcp_auth_{v}::{v}_provider"))
        {
            errors.push(format!(
                "facade root `pub use {tree}`: only core's root and the four `*_provider` calls go there"
            ));
        }
    }
    errors.extend(
        core_root
            .difference(&from_core)
            .map(|n| format!("core's root has `{n}`, the facade does not")),
    );
    errors.extend(
        from_core
            .difference(core_root)
            .map(|n| format!("the facade re-exports `{n}`, not a root item of core")),
    );
    for v in VENDORS {
        let body = facade
            .split(&format!("pub mod {v} {{"))
            .nth(1)
            .and_then(|rest| rest.split('}').next());
        if body.map(str::trim) != Some(format!("pub use mcp_auth_{v}::*;").as_str()) {
            errors.push(format!(
                "the facade needs `pub mod {v} {{ pub use mcp_auth_{v}::*; }}`"
            ));
        }
    }
    errors
}

fn assert_none(errors: Vec<String>) {
    assert!(errors.is_empty(), "public surface:\n{}", errors.join("\n"));
}

#[test]
fn core_exports_each_item_once() {
    assert_none(violations(
        &load(&workspace().join("mcp-auth-core/src")),
        CORE_PUBLIC_MODULES,
    ));
}

#[test]
fn vendor_crates_have_flat_roots_without_core_items() {
    for v in VENDORS {
        let files = load(&workspace().join(format!("mcp-auth-{v}/src")));
        let mut errors = violations(&files, &[]);
        errors.extend(
            files
                .values()
                .flat_map(|c| pub_uses(c))
                .filter(|t| t.starts_with("mcp_auth_core"))
                .map(|t| {
                    format!("mcp-auth-{v} re-exports `{t}`: the facade module would repeat it")
                }),
        );
        assert_none(errors);
    }
}

#[test]
fn facade_mirrors_core_root_and_has_one_module_per_vendor() {
    let core = load(&workspace().join("mcp-auth-core/src"));
    let facade = code(&std::fs::read_to_string(workspace().join("src/lib.rs")).expect("facade"));
    assert_none(facade_violations(&facade, &root_names(&core)));
}

#[test]
fn the_check_sees_second_paths_nested_public_modules_and_stray_hidden_items() {
    let files = |entries: Vec<(Vec<&str>, &str)>| -> Files {
        entries
            .into_iter()
            .map(|(m, c)| (m.into_iter().map(String::from).collect(), c.to_owned()))
            .collect()
    };
    let two_paths = files(vec![
        (vec![], "pub mod jwt;\npub use jwt::JwtConfig;\n"),
        (vec!["jwt"], "pub struct JwtConfig;\n"),
    ]);
    assert!(
        violations(&two_paths, &["jwt"])
            .iter()
            .any(|e| e.contains("`JwtConfig` is public in"))
    );
    let nested = files(vec![
        (vec![], "pub mod jwt;\n"),
        (vec!["jwt"], "pub mod verifier;\n"),
    ]);
    assert!(
        violations(&nested, &["jwt"])
            .iter()
            .any(|e| e.contains("`pub mod verifier`"))
    );
    let hidden = files(vec![(vec![], "#[doc(hidden)]\npub fn helper() {}\n")]);
    assert!(!violations(&hidden, &[]).is_empty());
    let one_path = files(vec![
        (vec![], "pub mod jwt;\n"),
        (
            vec!["jwt"],
            "pub(crate) mod verifier;\npub use verifier::{JwtConfig, MAX_LEEWAY as LEEWAY};\n",
        ),
        (
            vec!["jwt", "verifier"],
            "pub struct JwtConfig;\npub const MAX_LEEWAY: u8 = 1;\n",
        ),
    ]);
    assert_eq!(violations(&one_path, &["jwt"]), Vec::<String>::new());
}
