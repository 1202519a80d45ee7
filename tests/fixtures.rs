//! Every fixture repo under `fixtures/` (but `bad/`) is linted, and the
//! findings must land exactly on the lines its `# expect:` markers name: no
//! missing finding, no unexpected one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use planelint::check::{Options, check};
use planelint::expect;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (file, line, rule) of every finding in a fixture repo.
fn findings(dir: &Path) -> BTreeSet<(String, usize, String)> {
    let options = Options {
        paths: vec![dir.to_path_buf()],
        ..Options::default()
    };
    let run = check(&options, &root()).unwrap();
    run.diagnostics
        .iter()
        .map(|d| {
            let file = run.sources.get(d.location.source).unwrap();
            (
                file.name.clone(),
                file.line_col(d.location.span.start).line,
                d.rule.to_string(),
            )
        })
        .collect()
}

fn expectations(dir: &Path) -> BTreeSet<(String, usize, String)> {
    let mut out = BTreeSet::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if !planelint::discover::is_yaml(entry.path()) {
            continue;
        }
        let name = entry
            .path()
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for e in expect::parse(&text) {
            out.insert((name.clone(), e.line, e.rule));
        }
    }
    out
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        root().join("fixtures/seed-table"),
        root().join("fixtures/valid"),
        root().join("fixtures/mixed-values"),
    ];
    let mut rules: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    rules.sort();
    for rule in rules {
        dirs.push(rule.join("fires"));
        dirs.push(rule.join("quiet"));
    }
    dirs
}

#[test]
fn findings_land_exactly_on_expect_markers() {
    let mut failures = Vec::new();
    for dir in fixture_dirs() {
        let relative = dir.strip_prefix(root()).unwrap().to_path_buf();
        let got = findings(&relative);
        let want = expectations(&dir);
        for missing in want.difference(&got) {
            failures.push(format!("missing: {}:{} {}", missing.0, missing.1, missing.2));
        }
        for unexpected in got.difference(&want) {
            failures.push(format!(
                "unexpected: {}:{} {}",
                unexpected.0, unexpected.1, unexpected.2
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_firing_and_a_quiet_fixture() {
    for (name, _) in planelint::policy::BUILTIN {
        let rule = name.trim_end_matches(".yaml");
        let fires = root().join("fixtures/rules").join(rule).join("fires");
        let quiet = root().join("fixtures/rules").join(rule).join("quiet");
        assert!(quiet.is_dir(), "{rule} has no quiet fixture");
        let markers = expectations(&fires);
        assert!(
            markers.iter().any(|(_, _, r)| r == rule),
            "{rule}: its fires/ fixture expects no finding of it"
        );
        assert!(
            expectations(&quiet).is_empty(),
            "{rule}: its quiet/ fixture expects findings"
        );
    }
}

#[test]
fn builtin_list_matches_the_policies_directory() {
    let mut on_disk: Vec<String> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = planelint::policy::BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(embedded, on_disk);
    for (name, text) in planelint::policy::BUILTIN {
        assert_eq!(
            *text,
            std::fs::read_to_string(root().join("policies").join(name)).unwrap()
        );
    }
}
