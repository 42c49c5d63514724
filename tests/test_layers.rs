//! The stages only look forward: a module uses the shared vocabulary and the stages before it,
//! never a later one; inside `link/`, types live below the code that uses them. Read from the
//! `crate::` and `super::` paths of `src/` (test modules excepted).

use crate::workdir::repo_path;

/// The modules of `src/`, lowest first: each may use only those before it.
const LAYERS: [&str; 19] = [
    "model",
    "mask",
    "rng",
    "keys",
    "progress",
    "config",
    "ingest",
    "normalize",
    "link",
    "rules",
    "ledger",
    "report",
    "eval",
    "synth",
    "cli",
    "logs",
    "commands",
    "main",
    "lib",
];

/// `module`'s place in `layers` (named `list` in the message when it has none).
fn rank_in(layers: &[&str], list: &str, module: &str) -> usize {
    layers
        .iter()
        .position(|m| *m == module)
        .unwrap_or_else(|| panic!("{module} is in no layer: add it to {list}"))
}

fn rank(module: &str) -> usize {
    rank_in(&LAYERS, "LAYERS", module)
}

fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// (file, module it uses) for every use of a later stage.
fn backward_uses() -> Vec<(String, String)> {
    let src = repo_path("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut backward = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let module = relative.split('/').next().unwrap().trim_end_matches(".rs");
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (at, _) in code.match_indices("crate::") {
            let used: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !used.is_empty() && used != module && rank(&used) > rank(module) {
                backward.push((relative.clone(), used));
            }
        }
    }
    backward.sort();
    backward.dedup();
    backward
}

#[test]
fn stages_use_only_earlier_stages() {
    assert_eq!(backward_uses(), Vec::<(String, String)>::new());
}

/// The modules of `src/link/`, lowest first: each may use only those before it (`mod` is the
/// stage's face, whose names no module inside may use).
const LINK_LAYERS: [&str; 21] = [
    "table",
    "comparators",
    "comparison",
    "blocking",
    "model",
    "pairs",
    "predict",
    "training",
    "cluster",
    "candidates",
    "calibrate",
    "engine",
    "explain",
    "person_key",
    "households",
    "linkage",
    "decisions",
    "matcher",
    "records",
    "lists",
    "mod",
];

fn link_rank(module: &str) -> usize {
    rank_in(&LINK_LAYERS, "LINK_LAYERS", module)
}

/// (file, module it uses) for every use inside `link/` of a later module, or of `mod`'s names.
fn backward_link_uses() -> Vec<(String, String)> {
    let mut backward = Vec::new();
    for entry in std::fs::read_dir(repo_path("src/link")).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for prefix in ["super::", "crate::link::"] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                // `super::Name` or `super::{…}` names what `mod.rs` declares.
                let used: String = match rest.chars().next() {
                    Some(c) if c.is_ascii_lowercase() => rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect(),
                    _ => "mod".to_string(),
                };
                if used != module && link_rank(&used) > link_rank(&module) {
                    backward.push((format!("link/{module}.rs"), used));
                }
            }
        }
    }
    backward.sort();
    backward.dedup();
    backward
}

#[test]
fn link_modules_use_only_earlier_ones() {
    assert_eq!(backward_link_uses(), Vec::<(String, String)>::new());
}
