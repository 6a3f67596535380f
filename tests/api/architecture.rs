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

/// The floors of `docs/architecture.md`'s table, top first: each module's floor.
fn floors() -> BTreeMap<String, usize> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md")).unwrap();
    let mut floors = BTreeMap::new();
    let rows = doc.lines().skip_while(|l| !l.starts_with("| floor |")).skip(2).take_while(|l| l.starts_with('|'));
    for (floor, row) in rows.enumerate() {
        let modules = row.split('|').nth(2).expect("a modules column");
        for module in modules.split(',').map(|m| m.trim().trim_matches('`')) {
            assert!(floors.insert(module.to_owned(), floor).is_none(), "{module} is on two floors");
        }
    }
    assert!(floors.len() >= 20, "the table was read: {floors:?}");
    floors
}

#[test]
fn every_import_runs_to_its_own_floor_or_below() {
    let floors = floors();
    for (module, named) in imports() {
        let floor = *floors.get(&module).unwrap_or_else(|| panic!("{module} is in no row of the floor table"));
        for imported in named {
            let below = *floors.get(&imported).unwrap_or_else(|| panic!("{imported} is in no row of the floor table"));
            assert!(below >= floor, "{module} (floor {floor}) imports {imported}, a floor above (floor {below})");
        }
    }
}

#[test]
fn the_readme_lists_every_module_of_src() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme.split("## Architecture").nth(1).expect("an Architecture section");
    let block = section.split("```").nth(1).expect("the module list");
    let mut listed = BTreeSet::new();
    for line in block.lines().filter(|l| l.starts_with("src/")) {
        let names = line.split("  ").next().unwrap();
        for (i, name) in names.split(", ").enumerate() {
            let name = if i == 0 { name.strip_prefix("src/").unwrap() } else { name };
            assert!(root.join("src").join(name).exists(), "the README lists src/{name}, which does not exist");
            listed.insert(name.trim_end_matches('/').trim_end_matches(".rs").to_owned());
        }
    }
    let modules: BTreeSet<String> = std::fs::read_dir(root.join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed, modules, "the README's module list and src/");
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
