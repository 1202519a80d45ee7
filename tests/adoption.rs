//! The adoption commands end to end: a user policy directory that `rules`,
//! `explain`, `check` and `test` all know; the built-in pack's fixtures run
//! through `planelint test`; `init`, `schema`, completions and the man page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{planelint, planelint_in, python_has, repo};
use std::process::Command;

const USER_POLICY: &str = "apiVersion: planelint/v1
kind: Policy
metadata:
  name: pool-name-short
spec:
  severity: warning
  summary: Pool names are at most 8 characters.
  description: |
    Short pool names fit in bucket names.

    Fix: rename the pool.
  forEach: pools
  validations:
    - expression: size(object.name) <= 8
      messageExpression: \"'pool name ' + object.name + ' is longer than 8 characters'\"
      field: name
";

const USER_FIXTURE: &str = "apiVersion: planelint/v1
kind: ClusterPool
metadata: {name: much-too-long}  # expect: pool-name-short
";

fn user_repo() -> tempfile::TempDir {
    repo(&[
        (".planelint.yaml", "policies: [rules]\n"),
        ("rules/pool-name-short.yaml", USER_POLICY),
        ("fixtures/pool-name-short/fires/pools.yaml", USER_FIXTURE),
        (
            "fixtures/pool-name-short/quiet/pools.yaml",
            "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {name: short}\n",
        ),
    ])
}

#[test]
fn a_user_policy_is_known_to_rules_explain_check_and_test() {
    let dir = user_repo();
    let out = planelint_in(dir.path(), &["rules"]);
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "RULE                                  SEVERITY  ORIGIN                      SUMMARY"
    );
    assert!(lines.contains(
        &"pool-name-short                       warning   rules/pool-name-short.yaml  Pool names are at most 8 characters."
    ));
    assert!(lines.contains(
        &"yaml-syntax                           error     built-in                    A file is not valid YAML."
    ));
    // The header, the engine's rules, the built-in policies, the user's one.
    assert_eq!(
        lines.len(),
        1 + planelint::diagnostic::ENGINE_RULES.len() + common::builtin_rule_count() + 1
    );

    let out = planelint_in(dir.path(), &["explain", "pool-name-short"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "pool-name-short: Pool names are at most 8 characters.\n\nseverity: warning\norigin: rules/pool-name-short.yaml\n\n\
         Short pool names fit in bucket names.\n\nFix: rename the pool.\n"
    );

    let out = planelint_in(dir.path(), &["check", "fixtures"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(
        "fixtures/pool-name-short/fires/pools.yaml:3:18: warning[pool-name-short]: pool name much-too-long is longer than 8 characters\n"
    ));

    let out = planelint_in(dir.path(), &["test", "fixtures"]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "ok   fixtures/pool-name-short/fires: 1 met, 0 missed, 0 unexpected\n\
         ok   fixtures/pool-name-short/quiet: 0 met, 0 missed, 0 unexpected\n\
         test result: ok. 2 fixture repos, 0 failed; 1 met, 0 missed, 0 unexpected\n"
    );
}

#[test]
fn rules_lists_every_rule_as_json_and_as_markdown() {
    let dir = user_repo();
    let out = planelint_in(dir.path(), &["rules", "--format", "json"]);
    assert_eq!(out.code, 0);
    let rules: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert_eq!(
        rules.len(),
        planelint::diagnostic::ENGINE_RULES.len() + common::builtin_rule_count() + 1
    );
    let user = rules.iter().find(|rule| rule["id"] == "pool-name-short").unwrap();
    assert_eq!(
        *user,
        serde_json::json!({
            "id": "pool-name-short",
            "severity": "warning",
            "level": "warning",
            "kind": "policy",
            "origin": "rules/pool-name-short.yaml",
            "summary": "Pool names are at most 8 characters.",
            "description": "Short pool names fit in bucket names.",
            "fix": "rename the pool.",
            "aliases": [],
            "source": null
        })
    );
    let built_in = rules.iter().find(|rule| rule["id"] == "provider-mix").unwrap();
    assert_eq!(
        built_in["source"],
        "https://docs.union.ai/data-plane-setup/multi-cluster"
    );
    let engine = rules.iter().find(|rule| rule["id"] == "yaml-syntax").unwrap();
    assert_eq!(
        (engine["kind"].as_str(), engine["origin"].as_str()),
        (Some("engine"), Some("built-in"))
    );

    let out = planelint_in(dir.path(), &["rules", "--format", "markdown"]);
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..2], ["| rule | severity | summary |", "|---|---|---|"]);
    assert!(lines.contains(&"| `pool-name-short` | warning | Pool names are at most 8 characters. |"));
    assert!(lines.contains(&concat!(
        "| [`provider-mix`](",
        env!("CARGO_PKG_REPOSITORY"),
        "/blob/main/docs/rules/provider-mix.md) | error | A single-provider DataPlane places every unit on one provider. |"
    )));
}

#[test]
fn a_renamed_rule_keeps_its_settings_suppressions_and_baseline() {
    let pools = "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {name: much-too-long}\n---\n\
                 apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {name: far-too-long}  # planelint: ignore[pool-name-long] legacy name\n";
    let dir = repo(&[
        (".planelint.yaml", "policies: [rules]\nrules: {pool-name-long: error}\n"),
        (
            "rules/pool-name.yaml",
            &USER_POLICY.replace("pool-name-short", "pool-name-long"),
        ),
        ("pools.yaml", pools),
    ]);
    let out = planelint_in(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "planelint: recorded 1 finding in baseline.json\n");

    // The rule is renamed; its old id stays as an alias.
    let renamed = USER_POLICY.replace(
        "  name: pool-name-short\n",
        "  name: pool-name-short\n  aliases: [pool-name-long]\n",
    );
    std::fs::write(dir.path().join("rules/pool-name.yaml"), &renamed).unwrap();
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1);
    // The config's level (error) and the inline suppression still apply.
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let findings: Vec<(&str, &str, u64, bool)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let text = |key: &str| d[key].as_str().unwrap();
            (
                text("rule"),
                text("severity"),
                d["line"].as_u64().unwrap(),
                d["suppressed"] == true,
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            ("pool-name-short", "error", 3, false),
            ("pool-name-short", "error", 7, true)
        ]
    );
    assert_eq!(
        out.stderr,
        "planelint: warning: rule `pool-name-long` is now `pool-name-short`; rename it in .planelint.yaml\n"
    );
    // The finding recorded under the old id is still the same finding.
    let out = planelint_in(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));

    let out = planelint_in(dir.path(), &["explain", "pool-name-long"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(
        "pool-name-short: Pool names are at most 8 characters.\n\nseverity: error\norigin: rules/pool-name.yaml\nformerly: pool-name-long\n"
    ), "{}", out.stdout);

    let out = planelint_in(dir.path(), &["check", "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let renamed = rules.iter().find(|rule| rule["id"] == "pool-name-short").unwrap();
    assert_eq!(renamed["deprecatedIds"], serde_json::json!(["pool-name-long"]));
    // A built-in rule links its page; a user's rule has none.
    assert!(renamed.get("helpUri").is_none());
    let built_in = rules.iter().find(|rule| rule["id"] == "provider-mix").unwrap();
    assert_eq!(
        built_in["helpUri"],
        concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/provider-mix.md")
    );
    assert!(
        rules
            .iter()
            .filter(|rule| rule["id"] != "pool-name-short")
            .all(|rule| rule.get("deprecatedIds").is_none())
    );

    // Named by both ids: the former one is the one to remove, and one
    // comment naming both is used by the one finding it covers.
    std::fs::write(
        dir.path().join(".planelint.yaml"),
        "policies: [rules]\nrules: {pool-name-long: error, pool-name-short: note}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pools.yaml"),
        pools.replace("ignore[pool-name-long]", "ignore[pool-name-long, pool-name-short]"),
    )
    .unwrap();
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("note[pool-name-short]"), "{}", out.stdout);
    assert!(!out.stdout.contains("suppression-unused"), "{}", out.stdout);
    assert_eq!(
        out.stderr,
        "planelint: warning: rule `pool-name-long` is now `pool-name-short`, which .planelint.yaml also names: remove `pool-name-long`\n"
    );

    // One name, one rule: a former id may not be another rule's name.
    std::fs::write(
        dir.path().join("rules/pool-other.yaml"),
        USER_POLICY.replace(
            "  name: pool-name-short\n",
            "  name: pool-other\n  aliases: [pool-name-short]\n",
        ),
    )
    .unwrap();
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains(
        "rules/pool-other.yaml:4:9: error[policy-error]: the former id `pool-name-short` of `pool-other` is the id of another rule\n"
    ), "{}", out.stdout);
}

#[test]
fn a_policy_test_mismatch_is_listed_and_exits_1() {
    let dir = user_repo();
    let fixture = dir.path().join("fixtures/pool-name-short/fires/pools.yaml");
    std::fs::write(&fixture, USER_FIXTURE.replace("pool-name-short", "provider-mix")).unwrap();
    let out = planelint_in(dir.path(), &["test", "fixtures/pool-name-short/fires"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        "FAIL fixtures/pool-name-short/fires: 0 met, 1 missed, 1 unexpected\n  \
         missed: fixtures/pool-name-short/fires/pools.yaml:3: provider-mix\n  \
         unexpected: fixtures/pool-name-short/fires/pools.yaml:3: pool-name-short\n\
         test result: FAILED. 1 fixture repo, 1 failed; 0 met, 1 missed, 1 unexpected\n"
    );
    let out = planelint_in(
        dir.path(),
        &["test", "--format", "junit", "fixtures/pool-name-short/fires"],
    );
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="planelint test" tests="2" failures="2" errors="0">
  <testsuite name="fixtures/pool-name-short/fires" tests="2" failures="2" errors="0">
    <testcase name="fixtures/pool-name-short/fires/pools.yaml:3: provider-mix" classname="fixtures/pool-name-short/fires">
      <failure message="expected finding not reported"/>
    </testcase>
    <testcase name="no unexpected findings" classname="fixtures/pool-name-short/fires">
      <failure message="unexpected findings">fixtures/pool-name-short/fires/pools.yaml:3: pool-name-short</failure>
    </testcase>
  </testsuite>
</testsuites>
"#
    );
}

#[test]
fn the_builtin_pack_passes_its_policy_tests() {
    // Each rule's fixtures count that rule's markers alone (and the engine's).
    let out = planelint(&["test", "fixtures/rules", "fixtures/seed-table", "fixtures/valid"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    // A fires/ and a quiet/ repo per rule, the seed table and the valid repo;
    // tests/fixtures.rs pins which markers each one meets.
    let repos = 2 * std::fs::read_dir(common::root().join("fixtures/rules"))
        .unwrap()
        .count()
        + 2;
    let last = out.stdout.lines().last().unwrap_or_default();
    let prefix = format!("test result: ok. {repos} fixture repos, 0 failed; ");
    assert!(
        last.starts_with(&prefix) && last.ends_with(" met, 0 missed, 0 unexpected"),
        "{last}"
    );
    assert!(
        out.stdout
            .contains("ok   fixtures/seed-table: 4 met, 0 missed, 0 unexpected\n")
    );
}

#[test]
fn explain_of_an_unknown_rule_is_a_usage_error() {
    let out = planelint(&["explain", "no-such-rule"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "planelint: no rule `no-such-rule`; `planelint rules` lists them\n"
    );
    let out = planelint(&["explain", "suppression-unused"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(
        "suppression-unused: A suppression comment matches no finding.\n\nseverity: warning\norigin: built-in\n\n"
    ));
}

#[test]
fn init_writes_a_clean_starter_and_never_overwrites() {
    let dir = repo(&[]);
    let out = planelint_in(dir.path(), &["init"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, "wrote ./.planelint.yaml\nwrote ./dataplane.yaml\n");
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));
    let out = planelint_in(dir.path(), &["check", "--show-config"]);
    assert!(
        out.stdout.contains("failLevel: error  # .planelint.yaml:10:12\n"),
        "{}",
        out.stdout
    );
    let out = planelint_in(dir.path(), &["init"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "planelint: ./.planelint.yaml already exists; not overwriting it\n"
    );
}

#[test]
fn schemas_are_json_schema_documents_the_valid_fixtures_pass() {
    for kind in ["manifest", "policy", "config"] {
        let out = planelint(&["schema", kind]);
        assert_eq!(out.code, 0);
        let schema = common::json(&out);
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    }
    if !python_has(
        "jsonschema",
        "schemas_are_json_schema_documents_the_valid_fixtures_pass",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for kind in ["manifest", "policy", "config"] {
        std::fs::write(
            dir.path().join(format!("{kind}.json")),
            planelint(&["schema", kind]).stdout,
        )
        .unwrap();
    }
    // Every planelint document of fixtures/valid against the manifest
    // schema, every built-in policy against the policy schema, the init
    // config against the config schema; and a typo is rejected.
    let script = r#"
import glob, json, sys, yaml, jsonschema
d = sys.argv[1]
schema = lambda k: json.load(open(f"{d}/{k}.json"))
def check(kind, files):
    validator = jsonschema.Draft7Validator(schema(kind))
    n = 0
    for f in files:
        for doc in yaml.safe_load_all(open(f)):
            if doc is None or not str(doc.get("apiVersion", "")).startswith("planelint/") and kind != "config":
                continue
            validator.validate(doc)
            n += 1
    return n
print(check("manifest", sorted(glob.glob("fixtures/valid/**/*.yaml", recursive=True))))
print(check("policy", sorted(glob.glob("policies/*.yaml"))))
print(check("config", [sys.argv[2]]))
bad = {"apiVersion": "planelint/v1", "kind": "Cluster", "metadata": {"name": "c"}, "spec": {"metadataBuckt": "x"}}
print(jsonschema.Draft7Validator(schema("manifest")).is_valid(bad))
"#;
    let init = repo(&[]);
    assert_eq!(planelint_in(init.path(), &["init"]).code, 0);
    let output = Command::new("python3")
        .current_dir(common::root())
        .args(["-c", script])
        .arg(dir.path())
        .arg(init.path().join(".planelint.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'yaml'") {
        common::skip_without("yaml", "schema validation", "pip install pyyaml; .ci/run installs it");
        return;
    }
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("6\n{}\n1\nFalse\n", common::builtin_policy_count()),
        "{stderr}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let out = planelint(&["completions", "bash"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("_planelint() {"), "{}", &out.stdout[..100]);
    assert!(out.stdout.contains("--write-baseline"));
    for shell in ["zsh", "fish"] {
        let out = planelint(&["completions", shell]);
        assert_eq!(out.code, 0);
        assert!(out.stdout.contains("show-config"), "{shell}");
    }
    let out = planelint(&["man"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .starts_with(".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH planelint 1"),
        "{}",
        &out.stdout[..200]
    );
    assert!(out.stdout.contains("planelint\\-check"));
}
