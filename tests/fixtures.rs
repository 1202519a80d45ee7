//! Every fixture repo under `fixtures/` (but `bad/`) is linted, and the
//! findings must land exactly on the lines its `# expect:` markers name: no
//! missing finding, no unexpected one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use planelint::check::{ConfigSource, Options, check};
use planelint::expect;
use planelint::policytest::Scope;
use planelint::report::{Format, Style, render};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

type Mark = (String, usize, String);

/// A fixture repo's findings as (file, line, rule), with the human output
/// that pins their wording, both of the rules the repo's [`Scope`] counts.
struct Linted {
    marks: BTreeSet<Mark>,
    output: String,
    scope: Scope,
}

fn lint(dir: &Path) -> Linted {
    // Each fixture repo's own `.planelint.yaml` applies (its `layers:`).
    let options = Options {
        paths: vec![dir.to_path_buf()],
        config: Some(ConfigSource {
            explicit: Some(root().join(dir).join(".planelint.yaml")).filter(|file| file.is_file()),
            ..ConfigSource::default()
        }),
        ..Options::default()
    };
    let run = check(&options, &root()).unwrap();
    let scope = Scope::of(dir, &run.policies);
    let diagnostics: Vec<_> = run
        .diagnostics
        .iter()
        .filter(|d| scope.counts(d.rule.as_str()))
        .cloned()
        .collect();
    let marks = diagnostics
        .iter()
        .map(|d| {
            let file = run.sources.get(d.location.source).unwrap();
            (
                file.name.clone(),
                file.line_col(d.location.span.start).line,
                d.rule.to_string(),
            )
        })
        .collect();
    let report = run.report(&diagnostics, None);
    let mut output = Vec::new();
    render(&mut output, Format::Human, &report, Style::Plain).unwrap();
    Linted {
        marks,
        output: String::from_utf8(output).unwrap(),
        scope,
    }
}

fn expectations(dir: &Path) -> BTreeSet<Mark> {
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
    let mut shapes: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/real-shapes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    shapes.sort();
    dirs.extend(shapes);
    dirs
}

/// Whether snapshots are rewritten rather than compared: `PLANELINT_BLESS=1`.
fn blessing() -> bool {
    std::env::var_os("PLANELINT_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn findings_land_exactly_on_expect_markers() {
    let mut failures = Vec::new();
    for dir in fixture_dirs() {
        let relative = dir.strip_prefix(root()).unwrap().to_path_buf();
        let linted = lint(&relative);
        let mut want = expectations(&dir);
        want.retain(|(_, _, rule)| linted.scope.counts(rule));
        for missing in want.difference(&linted.marks) {
            failures.push(format!("missing: {}:{} {}", missing.0, missing.1, missing.2));
        }
        for unexpected in linted.marks.difference(&want) {
            failures.push(format!(
                "unexpected: {}:{} {}",
                unexpected.0, unexpected.1, unexpected.2
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule's wording is pinned: planelint's human output on its `fires/`
/// fixture is `fixtures/rules/<id>/fires.expected`, rewritten by
/// `PLANELINT_BLESS=1`.
#[test]
fn each_rule_says_exactly_its_pinned_words_on_its_fires_fixture() {
    let mut stale = Vec::new();
    for (name, _) in planelint::policy::BUILTIN {
        let rule = name.trim_end_matches(".yaml");
        let relative = Path::new("fixtures/rules").join(rule).join("fires");
        let linted = lint(&relative);
        assert_eq!(linted.scope.alone(), Some(rule), "{rule}: not run alone");
        let pinned = root().join("fixtures/rules").join(rule).join("fires.expected");
        if blessing() {
            std::fs::write(&pinned, &linted.output).unwrap();
            continue;
        }
        match std::fs::read_to_string(&pinned) {
            Ok(text) if text == linted.output => {}
            Ok(text) => stale.push(format!("{rule}: expected\n{text}got\n{}", linted.output)),
            Err(_) => stale.push(format!("{rule}: {} is missing", pinned.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n(PLANELINT_BLESS=1 cargo test rewrites the pinned findings)",
        stale.join("\n")
    );
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

/// The built-in pack, read as `planelint` reads it.
fn builtin_pack() -> (Vec<planelint::policy::Policy>, planelint::source::SourceMap) {
    let mut sources = planelint::source::SourceMap::default();
    let options = planelint::policy::SetOptions {
        builtin: true,
        dirs: &[],
        cwd: &root(),
        max_file_bytes: u64::MAX,
    };
    let set = planelint::policy::load_set(&mut sources, &options).unwrap();
    assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    (set.policies, sources)
}

/// The page of `rule` in `docs/rules/`: its summary, why and fix from its
/// policy, its `fires/` fixture and what planelint reports on it.
fn rule_page(rule: &planelint::registry::Rule<'_>) -> String {
    let id = rule.id;
    let mut page = format!(
        "# `{id}`\n\n<!-- Generated by `PLANELINT_BLESS=1 cargo test` from policies/{id}.yaml and fixtures/rules/{id}/: do not edit. -->\n\n\
         {} · {}\n\n{}\n",
        rule.severity,
        rule.summary,
        rule.why()
    );
    if let Some(source) = rule.source {
        page.push_str(&format!("\nSource: <{source}>\n"));
    }
    if let Some(fix) = rule.fix() {
        let mut chars = fix.chars();
        let sentence: String = chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        page.push_str(&format!("\n## How to fix\n\n{sentence}\n"));
    }
    let rule = id;
    let fires = root().join("fixtures/rules").join(rule).join("fires");
    page.push_str(&format!(
        "\n## Example\n\nOn the repo `fixtures/rules/{rule}/fires/`:\n"
    ));
    for entry in walkdir::WalkDir::new(&fires).sort_by_file_name() {
        let entry = entry.unwrap();
        if !planelint::discover::is_yaml(entry.path()) {
            continue;
        }
        let name = entry
            .path()
            .strip_prefix(&fires)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(entry.path()).unwrap();
        page.push_str(&format!("\n`{name}`:\n\n```yaml\n{}\n```\n", text.trim_end()));
    }
    // Linted here, not read from `fires.expected`: one bless run writes both.
    let reported = lint(&Path::new("fixtures/rules").join(rule).join("fires")).output;
    page.push_str(&format!(
        "\nplanelint reports:\n\n```text\n{}\n```\n",
        reported.trim_end()
    ));
    page
}

/// Every rule has a page in `docs/rules/`, generated from its policy and
/// fixtures and kept in step: a stale or missing page fails, and
/// `PLANELINT_BLESS=1` rewrites them.
#[test]
fn every_rule_has_its_generated_page() {
    let dir = root().join("docs/rules");
    let mut stale = Vec::new();
    let mut pages = BTreeSet::new();
    let (policies, sources) = builtin_pack();
    let registry = planelint::registry::Registry::new(&policies, &sources);
    let built_in = registry
        .rules()
        .iter()
        .filter(|r| r.origin == planelint::registry::Origin::BuiltIn);
    for rule in built_in {
        // Every built-in rule says where its constraint comes from.
        assert!(rule.source.is_some(), "policies/{}.yaml has no spec.source", rule.id);
        let page = rule_page(rule);
        let rule = rule.id;
        let path = dir.join(format!("{rule}.md"));
        pages.insert(format!("{rule}.md"));
        if blessing() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, page).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(page.as_str()) {
            stale.push(format!("docs/rules/{rule}.md"));
        }
    }
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !pages.contains(&name) {
            stale.push(format!("docs/rules/{name} (no such rule)"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale rule pages: {}\n(PLANELINT_BLESS=1 cargo test rewrites them)",
        stale.join(", ")
    );
}

/// The rule index of `docs/rules.md`, between its markers, is the registry's
/// Markdown table: a new rule appears in it with one bless run.
#[test]
fn the_rule_index_is_generated_from_the_registry() {
    const BEGIN: &str = "<!-- rules: generated by `PLANELINT_BLESS=1 cargo test`, do not edit -->\n";
    const END: &str = "<!-- rules: end -->\n";
    let (policies, sources) = builtin_pack();
    let registry = planelint::registry::Registry::new(&policies, &sources);
    let mut table = Vec::new();
    planelint::report::render_rules_markdown(&mut table, &registry, "rules/").unwrap();
    let table = String::from_utf8(table).unwrap();
    let path = root().join("docs/rules.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = text.split_once(BEGIN).expect("docs/rules.md has the begin marker");
    let (current, tail) = rest.split_once(END).expect("docs/rules.md has the end marker");
    if blessing() {
        std::fs::write(&path, format!("{head}{BEGIN}{table}{END}{tail}")).unwrap();
    } else {
        assert_eq!(
            current, table,
            "docs/rules.md is stale (PLANELINT_BLESS=1 cargo test rewrites it)"
        );
    }
}
