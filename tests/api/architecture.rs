//! The module tree is the architecture (docs/architecture.md): imports between the top-level
//! modules of `src/` run one way, with no circle, and `startup` is a leaf nothing imports but
//! the commands that start a server. Read from the source, `use crate::...` and paths alike;
//! comments and unit tests are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module -> the top-level modules its code names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = vec![src.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap().with_extension("");
        let top = relative.iter().next().unwrap().to_string_lossy().into_owned();
        if top == "lib" || top == "main" || path.extension().map_or(true, |e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let named = graph.entry(top.clone()).or_default();
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            // `crate::x::...`, and each name of `use crate::{x, y::z}`.
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let names = match rest.strip_prefix('{') {
                    Some(group) => group.split('}').next().unwrap().split(',').map(str::trim).collect(),
                    None => vec![rest],
                };
                for name in names {
                    let module: String = name.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if !module.is_empty() && module != top {
                        named.insert(module);
                    }
                }
            }
        }
    }
    graph
}

/// A circle of imports, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut circle = path[at..].to_vec();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if !done.insert(module.to_owned()) {
            return None;
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

#[test]
fn imports_between_modules_run_one_way() {
    let graph = imports();
    assert!(graph.len() >= 15, "the source was read: {graph:?}");
    if let Some(circle) = circle(&graph) {
        panic!("an import circle: {}", circle.join(" -> "));
    }
}

#[test]
fn startup_is_a_leaf() {
    let importers: Vec<String> =
        imports().into_iter().filter(|(_, named)| named.contains("startup")).map(|(module, _)| module).collect();
    assert_eq!(importers, ["commands"], "only the commands start a server");
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_owned(), BTreeSet::from([to.to_owned()])))
        .collect();
    assert_eq!(circle(&graph), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}
