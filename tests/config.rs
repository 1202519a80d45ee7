//! `.planelint.yaml`: found by walking up, `--config` wins, flags win over
//! the file, `--show-config` says where each value came from, and a bad file
//! is a diagnostic with a span and exit 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{findings, planelint_in, repo, shared_account};

#[test]
fn severity_override_and_fail_level_come_from_the_file_and_flags_win() {
    let config = "rules:\n  placement-account-shared: warning\nfailLevel: warning\nformat: json\n";
    let dir = repo(&[
        (".planelint.yaml", config),
        ("dataplane.yaml", &shared_account("acct-1")),
    ]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(out.code, 1);
    assert_eq!(findings(&out), ["dataplane.yaml:12:62 placement-account-shared"]);
    assert_eq!(common::json(&out)["diagnostics"][0]["severity"], "warning");
    let out = planelint_in(dir.path(), &["check", "--fail-level", "error"]);
    assert_eq!(out.code, 0);
    let out = planelint_in(dir.path(), &["check", "--format", "github"]);
    assert_eq!(
        out.stdout,
        "::warning file=dataplane.yaml,line=12,col=62,endLine=12,endColumn=68,title=placement-account-shared::account acct-1 of staging/p2 is already used by staging/p1; each unit needs its own account\n"
    );
}

#[test]
fn a_rule_turned_off_reports_nothing_and_select_ignore_narrow() {
    let dir = repo(&[
        (".planelint.yaml", "rules: {placement-account-shared: off}\n"),
        ("dataplane.yaml", &shared_account("acct-1")),
    ]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));
    let dir = repo(&[("dataplane.yaml", &shared_account("acct-1"))]);
    let out = planelint_in(
        dir.path(),
        &["check", "--ignore", "placement-account-shared,provider-mix"],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));
    let out = planelint_in(dir.path(), &["check", "--select", "provider-mix"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));
    let out = planelint_in(
        dir.path(),
        &["check", "--select", "placement-account-shared", "--format", "json"],
    );
    assert_eq!(findings(&out), ["dataplane.yaml:12:62 placement-account-shared"]);
}

#[test]
fn the_file_is_found_walking_up_and_config_flag_wins() {
    let dir = repo(&[
        (".planelint.yaml", "rules: {placement-account-shared: off}\n"),
        ("sub/dataplane.yaml", &shared_account("acct-1")),
        ("other.yaml", "failLevel: note\n"),
    ]);
    let sub = dir.path().join("sub");
    let out = planelint_in(&sub, &["check", "."]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));
    let out = planelint_in(&sub, &["check", "--config", "../other.yaml", "--format", "json", "."]);
    assert_eq!(out.code, 1);
    assert_eq!(findings(&out), ["dataplane.yaml:12:62 placement-account-shared"]);
}

#[test]
fn show_config_prints_each_value_and_where_it_came_from() {
    let config = "policies: [local]\nrules:\n  cluster-pool-unknown: error\n  provider-mix: off\nexclude: ['charts/*/templates/**']\nformat: json\n";
    let dir = repo(&[(".planelint.yaml", config), ("local/.keep", "")]);
    let out = planelint_in(
        dir.path(),
        &[
            "check",
            "--show-config",
            "--fail-level",
            "warning",
            "--policy",
            "more",
            "--ignore",
            "a-rule",
        ],
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "\
# root: .
# config file: .planelint.yaml
policies:
  - \"local\"  # .planelint.yaml:1:12
  - \"more\"  # --policy
rules:
  cluster-pool-unknown: error  # .planelint.yaml:3:25
  provider-mix: off  # .planelint.yaml:4:17
ignore: [\"a-rule\"]  # --ignore
include: [\"**/*.yaml\", \"**/*.yml\"]  # default
exclude: [\"charts/*/templates/**\"]  # .planelint.yaml:5:10
failLevel: warning  # --fail-level
format: json  # .planelint.yaml:6:9
helmTemplates: skip  # default
"
    );
}

#[test]
fn a_bad_config_file_is_a_diagnostic_with_a_span_and_exit_2() {
    let dir = repo(&[
        (".planelint.yaml", "polices: [x]\nfailLevel: 3\n"),
        ("dataplane.yaml", &shared_account("acct-1")),
    ]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stdout,
        "\
.planelint.yaml:1:1: error[manifest-schema]: unknown key `polices` in the config file
1 | polices: [x]
  | ^^^^^^^
  = help: did you mean `policies`?

.planelint.yaml:2:12: error[manifest-schema]: `failLevel` must be one of `error`, `warning`, `note`, found `3`
2 | failLevel: 3
  |            ^

2 errors, 0 warnings, 0 notes in 0 files
"
    );
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        findings(&out),
        [
            ".planelint.yaml:1:1 manifest-schema",
            ".planelint.yaml:2:12 manifest-schema"
        ]
    );
}

#[test]
fn include_and_exclude_globs_pick_the_files() {
    let dir = repo(&[
        (".planelint.yaml", "exclude: ['charts/*/templates/**']\n"),
        ("charts/app/templates/broken.yaml", "a: [\n"),
        ("charts/app/values.yaml", "a: 1\n"),
        ("dataplane.yaml", &shared_account("acct-1")),
    ]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), ["dataplane.yaml:12:62 placement-account-shared"]);
    assert_eq!(common::json(&out)["summary"]["files"], 2);
    let dir = repo(&[
        (".planelint.yaml", "include: ['planes/**']\n"),
        ("elsewhere.yaml", "a: [\n"),
        ("planes/dataplane.yaml", &shared_account("acct-1")),
    ]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), ["planes/dataplane.yaml:12:62 placement-account-shared"]);
}

#[test]
fn unknown_rule_ids_are_warned_about() {
    let dir = repo(&[
        (".planelint.yaml", "rules:\n  placement-acount-shared: off\n"),
        ("x.yaml", "a: 1\n"),
    ]);
    let out = planelint_in(
        dir.path(),
        &["check", "--select", "provider-mixx", "--ignore", "provider-mix"],
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stderr,
        "planelint: warning: unknown rule `placement-acount-shared` in .planelint.yaml\n\
         planelint: warning: unknown rule `provider-mixx` in --select\n"
    );
}
