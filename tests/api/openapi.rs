//! `openapi.yaml` and the registered routes must agree, both ways.

use std::collections::BTreeSet;

use stampcard::routes::{resources, OPENAPI_YAML};

/// `(method, path)` pairs under `paths:`, read by indentation (two spaces for a path, four for
/// a method), the layout the spec keeps.
fn documented() -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    let mut in_paths = false;
    let mut path = String::new();
    for line in OPENAPI_YAML.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  ").filter(|l| l.starts_with('/')) {
            path = p.trim_end().trim_end_matches(':').trim_matches(|c| c == '"' || c == '\'').to_owned();
        } else if let Some(m) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) {
            let method = m.trim_end().trim_end_matches(':');
            if ["get", "put", "post", "delete", "patch", "options", "head", "trace"].contains(&method) {
                pairs.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    pairs
}

fn registered() -> BTreeSet<(String, String)> {
    resources()
        .iter()
        .flat_map(|r| {
            let (path, methods) = r.describe();
            methods.into_iter().map(move |m| (m.to_string(), path.to_owned()))
        })
        .collect()
}

#[test]
fn every_registered_route_is_documented() {
    let missing: Vec<_> = registered().difference(&documented()).cloned().collect();
    assert!(missing.is_empty(), "routes missing from openapi.yaml: {missing:?}");
}

#[test]
fn every_documented_route_is_served() {
    let extra: Vec<_> = documented().difference(&registered()).cloned().collect();
    assert!(extra.is_empty(), "openapi.yaml names routes the app does not serve: {extra:?}");
    assert!(documented().len() >= 18, "the parser found the paths: {:?}", documented());
}
