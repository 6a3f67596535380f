//! The documents that name tests name real ones: `docs/security.md` says which test proves
//! each claim, and a renamed or deleted test must not leave a claim without its proof.

use std::path::Path;

#[test]
fn every_test_named_in_the_threat_model_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/security.md")).expect("docs/security.md");
    let mut checked = 0;
    for reference in doc.split('`').skip(1).step_by(2) {
        let parts: Vec<&str> = reference.split("::").collect();
        if parts.len() < 2
            || !parts.iter().all(|p| {
                !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '*')
            })
        {
            continue;
        }
        let (name, module) = (parts[parts.len() - 1], &parts[..parts.len() - 1]);
        if name == "*" || module == ["module"] || module == ["path"] {
            continue;
        }
        let file = match module {
            [test_module] => root.join(format!("tests/api/{test_module}.rs")),
            [path @ .., "tests"] => root.join(format!("src/{}.rs", path.join("/"))),
            _ => panic!("cannot place {reference}"),
        };
        let source = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{reference}: no {}", file.display()));
        assert!(source.contains(&format!("fn {name}(")), "{reference}: no test of that name in {}", file.display());
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} references found: has the format changed?");
}
