//! `openapi.yaml` and the registered routes must agree, both ways.

use std::collections::BTreeSet;

use stampcard::routes::{resources, OPENAPI_YAML};
use yaml_rust2::YamlLoader;

/// `(method, path)` pairs under `paths:`.
fn documented() -> BTreeSet<(String, String)> {
    let docs = YamlLoader::load_from_str(OPENAPI_YAML).expect("openapi.yaml is YAML");
    let paths = docs[0]["paths"].as_hash().expect("openapi.yaml has paths");
    let methods = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];
    paths
        .iter()
        .flat_map(|(path, operations)| {
            let path = path.as_str().expect("a path is a string").to_owned();
            let operations = operations.as_hash().expect("a path item is a mapping");
            operations
                .keys()
                .filter_map(|key| key.as_str().filter(|k| methods.contains(k)))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
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
