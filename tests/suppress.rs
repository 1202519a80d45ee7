//! Inline suppressions (`# planelint: ignore[rule] reason`, `until=`) and
//! the problems with them, and the baseline: findings recorded by
//! fingerprint stay hidden when lines move; new ones show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{findings, json, planelint_in, repo};
use std::path::Path;

const SUPPRESSED: &str = r##"apiVersion: planelint/v1
kind: DataPlane
metadata:
  name: acme
spec:
  isolation: project
  domains:
    - name: staging
  projects: [p1, p2, p3, p4]
  placements:
    - {domain: staging, project: p1, provider: gcp, account: acct-1}
    - {domain: staging, project: p2, provider: gcp, account: acct-1}  # planelint: ignore[placement-account-shared] shared sandbox, TICKET-1
    # planelint: ignore[placement-account-shared, provider-mix] until=2030-01-01 legacy "#" account
    - {domain: staging, project: p3, provider: gcp, account: acct-1}
    - {domain: staging, project: p4, provider: gcp, account: acct-1}  # planelint: ignore[placement-account-shared] until=2024-01-01 old
  # planelint: ignore[placement-duplicate]
  # planelint: ignore[]
  # planelint: ignore[placement-missing] "x" until=2024-02-30
"##;

const SUPPRESSED_HUMAN: &str = r##"dataplane.yaml:13:51: warning[suppression-unused]: the suppression of `provider-mix` matches no finding on line 14; remove it
13 |     # planelint: ignore[placement-account-shared, provider-mix] until=2030-01-01 legacy "#" account
   |                                                   ^^^^^^^^^^^^

dataplane.yaml:15:62: error[placement-account-shared]: account acct-1 of staging/p4 is already used by staging/p1; each unit needs its own account
15 |     - {domain: staging, project: p4, provider: gcp, account: acct-1}  # planelint: ignore[placement-account-shared] until=2024-01-01 old
   |                                                              ^^^^^^
  = related: dataplane.yaml:11:62: placements[staging/p1].account
  = help: Each isolation unit maps to its own cloud account.

dataplane.yaml:15:117: warning[suppression-expired]: the suppression of `placement-account-shared` expired on 2024-01-01; its findings are reported again
15 |     - {domain: staging, project: p4, provider: gcp, account: acct-1}  # planelint: ignore[placement-account-shared] until=2024-01-01 old
   |                                                                                                                     ^^^^^^^^^^^^^^^^

dataplane.yaml:16:3: warning[suppression-invalid]: the suppression of `placement-duplicate` gives no reason; say why after the `]`
16 |   # planelint: ignore[placement-duplicate]
   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

dataplane.yaml:17:3: warning[suppression-invalid]: the suppression names no rule; write `# planelint: ignore[rule-id] reason`
17 |   # planelint: ignore[]
   |   ^^^^^^^^^^^^^^^^^^^^^

dataplane.yaml:18:3: warning[suppression-invalid]: `until=2024-02-30` is not a date; write `until=YYYY-MM-DD`
18 |   # planelint: ignore[placement-missing] "x" until=2024-02-30
   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

1 error, 5 warnings, 0 notes in 1 file
"##;

#[test]
fn suppressions_cover_their_line_and_bad_ones_are_reported() {
    let dir = repo(&[("dataplane.yaml", SUPPRESSED)]);
    let out = planelint_in(dir.path(), &["check", "--today", "2025-06-01"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, SUPPRESSED_HUMAN);
    // Before the expiry day, the last suppression still holds.
    let out = planelint_in(dir.path(), &["check", "--today", "2023-12-31", "--format", "json"]);
    assert_eq!(
        findings(&out),
        [
            "dataplane.yaml:13:51 suppression-unused",
            "dataplane.yaml:16:3 suppression-invalid",
            "dataplane.yaml:17:3 suppression-invalid",
            "dataplane.yaml:18:3 suppression-invalid",
        ]
    );
}

#[test]
fn suppressed_findings_stay_in_json_and_sarif_marked() {
    let dir = repo(&[("dataplane.yaml", SUPPRESSED)]);
    let out = planelint_in(dir.path(), &["check", "--today", "2025-06-01", "--format", "json"]);
    let report = json(&out);
    let suppressed: Vec<(u64, &str, serde_json::Value)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["suppressed"] == true)
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["rule"].as_str().unwrap(),
                d["suppression"].clone(),
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        [
            (
                12,
                "placement-account-shared",
                serde_json::json!({"kind": "inline", "reason": "shared sandbox, TICKET-1"})
            ),
            (
                14,
                "placement-account-shared",
                serde_json::json!({"kind": "inline", "reason": "legacy \"#\" account"})
            ),
        ]
    );
    assert_eq!(
        report["summary"],
        serde_json::json!({"errors": 1, "warnings": 5, "notes": 0, "files": 1,
            "skipped_files": 0, "policy_errors": 0, "input_limits": 0,
            "documents_read": 1, "documents_unread": 0})
    );
    let out = planelint_in(dir.path(), &["check", "--today", "2025-06-01", "--format", "sarif"]);
    let log = json(&out);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    assert_eq!(
        results[0]["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "shared sandbox, TICKET-1"}])
    );
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        12
    );
    assert!(results[1].get("suppressions").is_none());
}

#[test]
fn a_suppression_of_a_rule_turned_off_is_not_unused() {
    let text = "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {name: p}  # planelint: ignore[provider-mix] not ours\n";
    let dir = repo(&[("pool.yaml", text)]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out), ["pool.yaml:3:42 suppression-unused"]);
    let out = planelint_in(dir.path(), &["check", "--ignore", "provider-mix", "--format", "json"]);
    assert_eq!(findings(&out), Vec::<String>::new());
    let out = planelint_in(
        dir.path(),
        &["check", "--ignore", "suppression-unused", "--format", "json"],
    );
    assert_eq!(findings(&out), Vec::<String>::new());
}

/// A data plane in `dir/planeN/dataplane.yaml` with three units on one
/// account (two findings), and a unit p4 declared but not placed.
fn plane(n: usize) -> String {
    format!(
        "apiVersion: planelint/v1
kind: DataPlane
metadata:
  name: org-{n}
spec:
  isolation: project
  domains:
    - name: staging
  projects: [p1, p2, p3, p4]
  placements:
    - {{domain: staging, project: p1, provider: gcp, account: acct-{n}}}
    - {{domain: staging, project: p2, provider: gcp, account: acct-{n}}}
    - {{domain: staging, project: p3, provider: gcp, account: acct-{n}}}
"
    )
}

fn rewrite(dir: &Path, edit: impl Fn(&str) -> String) {
    for n in 0..5 {
        let path = dir.join(format!("plane{n}/dataplane.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edit(&text)).unwrap();
    }
}

#[test]
fn baseline_hides_old_findings_when_lines_move_and_shows_new_ones() {
    let files: Vec<(String, String)> = (0..5).map(|n| (format!("plane{n}/dataplane.yaml"), plane(n))).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let dir = repo(&files);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(findings(&out).len(), 15);

    let out = planelint_in(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert_eq!(out.stderr, "planelint: recorded 15 findings in baseline.json\n");
    let out = planelint_in(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 5 files\n"));

    rewrite(dir.path(), |text| format!("{}{text}", "# moved\n".repeat(10)));
    let out = planelint_in(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 5 files\n"));

    // One more unit on the shared account in plane3: exactly one new finding.
    let edited = dir.path().join("plane3/dataplane.yaml");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(
        &edited,
        text.replace("[p1, p2, p3, p4]", "[p1, p2, p3, p4, p5]")
            + "    - {domain: staging, project: p5, provider: gcp, account: acct-3}\n",
    )
    .unwrap();
    let out = planelint_in(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(out.code, 1);
    assert_eq!(findings(&out), ["plane3/dataplane.yaml:24:62 placement-account-shared"]);
    let report = json(&out);
    let hidden = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["suppressed"] == true);
    assert!(
        hidden
            .clone()
            .all(|d| d["suppression"] == serde_json::json!({"kind": "baseline"}))
    );
    assert_eq!(hidden.count(), 15);
}

#[test]
fn a_baseline_holds_whatever_directory_planelint_runs_from() {
    let files: Vec<(String, String)> = (0..2)
        .map(|n| (format!("configs/plane{n}/dataplane.yaml"), plane(n)))
        .collect();
    let mut files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    files.push((".git/HEAD", "ref: refs/heads/main\n"));
    let dir = repo(&files);
    let out = planelint_in(dir.path(), &["check", "--write-baseline", "baseline.json", "configs"]);
    assert_eq!(out.stderr, "planelint: recorded 6 findings in baseline.json\n");

    // From a subdirectory the files are shown as `plane0/...`, and from the
    // root as `configs/plane0/...`: the fingerprints are the same.
    let configs = dir.path().join("configs");
    let out = planelint_in(&configs, &["check", "--baseline", "../baseline.json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 2 files\n"));
    let fingerprints = |cwd: &Path, path: &str| -> Vec<String> {
        let report = json(&planelint_in(cwd, &["check", "--format", "json", path]));
        let diagnostics = report["diagnostics"].as_array().unwrap().iter();
        diagnostics
            .map(|d| d["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let from_root = fingerprints(dir.path(), "configs");
    assert_eq!(from_root.len(), 6);
    assert_eq!(fingerprints(&configs, "."), from_root);
    assert_eq!(fingerprints(&configs.join("plane1"), ".."), from_root);
}

#[test]
fn a_policy_file_finding_has_one_fingerprint_from_any_directory() {
    let policy = "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: broken\nspec:\n  \
                  summary: Does not compile.\n  forEach: clusters\n  validations:\n    \
                  - expression: object.name ==\n";
    let dir = repo(&[
        ("policies/broken.yaml", policy),
        ("configs/plane0/dataplane.yaml", &plane(0)),
        (".git/HEAD", "ref: refs/heads/main\n"),
    ]);
    let finding = |cwd: &Path, policies: &str, configs: &str| -> (String, String) {
        let args = [
            "check",
            "--format",
            "json",
            "--no-builtin",
            "--policy",
            policies,
            configs,
        ];
        let out = planelint_in(cwd, &args);
        assert_eq!(out.code, 2, "a policy that does not compile: {}", out.stderr);
        let report = json(&out);
        let diagnostics = report["diagnostics"].as_array().unwrap();
        assert_eq!(diagnostics.len(), 1, "{report}");
        let text = |key: &str| diagnostics[0][key].as_str().unwrap().to_string();
        (text("file"), text("fingerprint"))
    };
    let (name, from_root) = finding(dir.path(), "policies", "configs");
    assert_eq!(name, "policies/broken.yaml");
    // Named `../policies` from below, the file is the same file of the repo.
    let (name, from_below) = finding(&dir.path().join("configs"), "../policies", ".");
    assert_eq!(name, "../policies/broken.yaml");
    assert_eq!(from_below, from_root);
}

#[test]
fn a_broken_baseline_is_a_usage_error() {
    let dir = repo(&[("baseline.json", "{\"version\": 9, \"findings\": []}")]);
    let out = planelint_in(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "planelint: cannot read the baseline baseline.json: baseline version 9 is not supported (expected 1)\n"
    );
}
