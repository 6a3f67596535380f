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
        // The page explains its notation with placeholders (`module::name`): not references.
        if name == "*" || name == "name" {
            continue;
        }
        let file = match module {
            [test_module] => root.join(format!("tests/api/{test_module}.rs")),
            [path @ .., "tests"] => root.join(format!("src/{}.rs", path.join("/"))),
            [binary, test_module] => root.join(format!("tests/{binary}/{test_module}.rs")),
            _ => panic!("cannot place {reference}"),
        };
        let source = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{reference}: no {}", file.display()));
        assert!(source.contains(&format!("fn {name}(")), "{reference}: no test of that name in {}", file.display());
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} references found: has the format changed?");
}

#[test]
fn the_readme_configuration_table_lists_every_setting_with_its_default() {
    use clap::Args;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let section = readme.split("## Configuration").nth(1).expect("a Configuration section");
    let rows: Vec<(String, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let variable = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((variable.to_owned(), cells.get(3)?.to_string()))
        })
        .collect();
    let command = stampcard::config::Config::augment_args(clap::Command::new("stampcard"));
    let settings: Vec<_> = command.get_arguments().filter(|a| a.get_env().is_some()).collect();
    for setting in &settings {
        let variable = setting.get_env().unwrap().to_string_lossy();
        let row = rows.iter().find(|(v, _)| *v == variable);
        let (_, default) = row.unwrap_or_else(|| panic!("{variable} is a setting but not in the README's table"));
        for value in setting.get_default_values().iter().map(|v| v.to_string_lossy()).filter(|v| !v.is_empty()) {
            assert!(default.contains(value.as_ref()), "{variable}: the README says {default:?}, the code {value:?}");
        }
    }
    for (variable, _) in &rows {
        let known = settings.iter().any(|s| s.get_env().is_some_and(|e| e == variable.as_str()));
        assert!(known || variable == "RUST_LOG", "the README lists {variable}, which is no setting");
    }
}
