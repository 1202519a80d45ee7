//! The `check` command end to end: exact findings, spans, output text and
//! exit codes, on fixtures and on broken input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{findings, json, planelint, planelint_in, repo};
use planelint::check::{Options, check};
use planelint::engine::Limits;
use std::time::Duration;

const SEED_TABLE_HUMAN: &str = "\
fixtures/seed-table/dataplane.yaml:23:69: error[placement-account-shared]: account gcp-project-union-staging-project-1 of staging/project-2 is already used by staging/project-1; each unit needs its own account
23 |     - {domain: staging, project: project-2, provider: gcp, account: gcp-project-union-staging-project-1}  # expect: placement-account-shared
   |                                                                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = related: fixtures/seed-table/dataplane.yaml:22:69: placements[staging/project-1].account
  = help: Each isolation unit maps to its own cloud account.

fixtures/seed-table/dataplane.yaml:24:69: error[placement-account-shared]: account gcp-project-union-staging-project-1 of staging/project-3 is already used by staging/project-1; each unit needs its own account
24 |     - {domain: staging, project: project-3, provider: gcp, account: gcp-project-union-staging-project-1}  # expect: placement-account-shared
   |                                                                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = related: fixtures/seed-table/dataplane.yaml:22:69: placements[staging/project-1].account
  = help: Each isolation unit maps to its own cloud account.

fixtures/seed-table/dataplane.yaml:26:72: error[placement-account-shared]: account aws-subaccount-union-production-project-1 of production/project-2 is already used by production/project-1; each unit needs its own account
26 |     - {domain: production, project: project-2, provider: aws, account: aws-subaccount-union-production-project-1}  # expect: placement-account-shared
   |                                                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = related: fixtures/seed-table/dataplane.yaml:25:72: placements[production/project-1].account
  = help: Each isolation unit maps to its own cloud account.

fixtures/seed-table/dataplane.yaml:27:72: error[placement-account-shared]: account aws-subaccount-union-production-project-1 of production/project-3 is already used by production/project-1; each unit needs its own account
27 |     - {domain: production, project: project-3, provider: aws, account: aws-subaccount-union-production-project-1}  # expect: placement-account-shared
   |                                                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = related: fixtures/seed-table/dataplane.yaml:25:72: placements[production/project-1].account
  = help: Each isolation unit maps to its own cloud account.

4 errors, 0 warnings, 0 notes in 1 file
";

#[test]
fn seed_table_gives_exactly_the_four_shared_accounts() {
    let out = planelint(&["check", "fixtures/seed-table"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, SEED_TABLE_HUMAN);
    assert_eq!(out.stderr, "");
}

#[test]
fn seed_table_json_spans_and_paths() {
    let out = planelint(&["check", "fixtures/seed-table", "--format", "json"]);
    assert_eq!(out.code, 1);
    let report = json(&out);
    assert_eq!(report["version"], 1);
    assert_eq!(
        report["summary"],
        serde_json::json!({"errors": 4, "warnings": 0, "notes": 0, "files": 1,
            "skipped_files": 0, "policy_errors": 0, "input_limits": 0,
            "documents_read": 1, "documents_unread": 0})
    );
    let first = &report["diagnostics"][0];
    assert_eq!(first["rule"], "placement-account-shared");
    assert_eq!(first["severity"], "error");
    assert_eq!((first["line"].as_u64(), first["column"].as_u64()), (Some(23), Some(69)));
    assert_eq!(
        (first["end_line"].as_u64(), first["end_column"].as_u64()),
        (Some(23), Some(104))
    );
    assert_eq!(
        (first["byte_start"].as_u64(), first["byte_end"].as_u64()),
        (Some(1045), Some(1080))
    );
    assert_eq!(first["model_path"], "placements[staging/project-2].account");
    assert_eq!(first["suppressed"], false);
    assert_eq!(first["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(
        first["related"],
        serde_json::json!([{"file": "fixtures/seed-table/dataplane.yaml", "line": 22, "column": 69,
            "end_line": 22, "end_column": 104, "message": "placements[staging/project-1].account"}])
    );
    let paths: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["model_path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "placements[staging/project-2].account",
            "placements[staging/project-3].account",
            "placements[production/project-2].account",
            "placements[production/project-3].account"
        ]
    );
}

#[test]
fn clean_repo_exits_zero() {
    let out = planelint(&["check", "fixtures/valid"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "no findings in 5 files (1 document not read)\n")
    );
}

#[test]
fn output_is_byte_identical_between_runs() {
    let first = planelint(&["check", "fixtures", "--format", "json"]);
    let second = planelint(&["check", "fixtures", "--format", "json"]);
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(first.code, 1);
}

#[test]
fn rules_live_in_the_policy_files_not_in_rust() {
    for format in ["human", "json"] {
        let builtin = planelint(&["check", "fixtures", "--format", format]);
        let from_files = planelint(&[
            "check",
            "fixtures",
            "--format",
            format,
            "--no-builtin",
            "--policy",
            "policies",
        ]);
        assert_eq!(builtin.stdout, from_files.stdout);
        assert_eq!(builtin.code, from_files.code);
    }
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = planelint(&["check", "no/such/dir"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "planelint: no/such/dir: no such file or directory\n");
    assert_eq!(out.stdout, "");
}

#[test]
fn no_yaml_file_warns_and_exits_zero() {
    let dir = repo(&[("README.md", "nothing here\n")]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "planelint: warning: no YAML file found in .\n");
}

const SHARED_ACCOUNTS: &str = "\
apiVersion: planelint/v1
kind: DataPlane
metadata:
  name: acme
spec:
  domains: [{name: dev}, {name: prod}]
  placements:
    - {domain: dev, provider: gcp, account: shared}
    - {domain: prod, provider: gcp, account: shared}
";

#[test]
fn broken_yaml_is_a_finding_and_other_files_are_still_linted() {
    let dir = repo(&[
        ("a-broken.yaml", "a: [1, 2\nb: c\n"),
        ("b/dataplane.yaml", SHARED_ACCOUNTS),
    ]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        findings(&out),
        [
            "a-broken.yaml:2:2 yaml-syntax",
            "b/dataplane.yaml:9:46 placement-account-shared"
        ]
    );
    assert_eq!(
        json(&out)["diagnostics"][0]["message"],
        "invalid YAML: illegal placement of ':' indicator"
    );
}

#[test]
fn schema_errors_point_at_the_offending_key_or_value() {
    let cluster = "\
apiVersion: planelint/v1
kind: Cluster
metadata:
  name: c1
spec:
  acount: \"1\"
  region: 12
  units: production
";
    let pool = "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata:\n  nme: p\n";
    let dir = repo(&[
        ("cluster.yaml", cluster),
        ("pool.yaml", pool),
        ("other.yaml", SHARED_ACCOUNTS),
    ]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(out.code, 1);
    let headers: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(": error[") || l.contains("= help"))
        .collect();
    assert_eq!(
        headers,
        [
            "cluster.yaml:6:3: error[manifest-schema]: unknown key `acount` in `spec`",
            "  = help: did you mean `account`?",
            "cluster.yaml:7:11: error[manifest-schema]: `region` must be a string, found an integer",
            "  = help: quote the value: \"12\"",
            "cluster.yaml:8:10: error[manifest-schema]: `units` must be a list, found a string",
            "other.yaml:9:46: error[placement-account-shared]: account shared of prod is already used by dev; each unit needs its own account",
            "  = help: Each isolation unit maps to its own cloud account.",
            "pool.yaml:3:1: error[manifest-schema]: missing required key `name` in `metadata`",
            "pool.yaml:4:3: error[manifest-schema]: unknown key `nme` in `metadata`",
            "  = help: did you mean `name`?",
        ]
    );
}

#[test]
fn documents_of_other_tools_are_counted_and_listed_as_not_read() {
    let dir = repo(&[(
        "k8s.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nunknown: 1\n",
    )]);
    let out = planelint_in(dir.path(), &["check", "--show-unread"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            0,
            "no findings in 1 file (1 document not read)\n",
            "planelint: not read k8s.yaml:1:1: a Kubernetes ConfigMap (v1)\n"
        )
    );
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        json(&out)["unread"],
        serde_json::json!([{"file": "k8s.yaml", "line": 1, "column": 1, "guess": "a Kubernetes ConfigMap (v1)"}])
    );
}

#[test]
fn two_dataplanes_in_one_directory_is_a_schema_finding() {
    let second = SHARED_ACCOUNTS.replace("name: acme", "name: other");
    let dir = repo(&[("a.yaml", SHARED_ACCOUNTS), ("b.yaml", second.as_str())]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        findings(&out),
        ["a.yaml:9:46 placement-account-shared", "b.yaml:4:9 manifest-schema"]
    );
    assert_eq!(
        json(&out)["diagnostics"][1]["message"],
        "a second DataPlane `other` in one directory; the DataPlane `acme` already owns it"
    );
}

#[test]
fn nearest_dataplane_owns_the_clusters_below_it() {
    let pool = |bucket: &str| {
        format!(
            "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {{name: p}}\nspec: {{metadataBucket: {bucket}}}\n"
        )
    };
    let (a, b) = (pool("one"), pool("one"));
    // The same pool name and bucket in two organizations: no sharing across them.
    let dir = repo(&[
        ("org-a/dataplane.yaml", SHARED_ACCOUNTS),
        ("org-a/pools/p.yaml", a.as_str()),
        (
            "org-b/dataplane.yaml",
            &SHARED_ACCOUNTS.replace("account: shared", "account: own"),
        ),
        ("org-b/pools/p.yaml", b.as_str()),
    ]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        findings(&out),
        [
            "org-a/dataplane.yaml:9:46 placement-account-shared",
            "org-b/dataplane.yaml:9:46 placement-account-shared"
        ]
    );
}

const BAD_CEL: &str = "\
apiVersion: planelint/v1
kind: Policy
metadata:
  name: bad-cel
spec:
  summary: A policy with a syntax error.
  forEach: clusters
  validations:
    - expression: object.name == \"a\" &&
";

#[test]
fn cel_syntax_error_points_into_the_policy_file_and_exits_2() {
    let dir = repo(&[("policies/bad.yaml", BAD_CEL), ("repo/dataplane.yaml", SHARED_ACCOUNTS)]);
    let out = planelint_in(
        dir.path(),
        &["check", "repo", "--policy", "policies", "--format", "json"],
    );
    assert_eq!(out.code, 2);
    assert_eq!(
        findings(&out),
        [
            "policies/bad.yaml:9:40 policy-error",
            "repo/dataplane.yaml:9:46 placement-account-shared"
        ]
    );
    let message = json(&out)["diagnostics"][0]["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("policy `bad-cel` does not compile: invalid CEL: Syntax error: mismatched input '<EOF>'"),
        "{message}"
    );
}

#[test]
fn cel_error_inside_a_block_scalar_maps_to_its_line_and_column() {
    let policy = BAD_CEL.replace(
        "    - expression: object.name == \"a\" &&\n",
        "    - expression: |\n        object.name == 'a' ||\n          object.name +* 'b'\n",
    );
    let dir = repo(&[("policies/bad.yaml", &policy), ("repo/x.yaml", "a: 1\n")]);
    let out = planelint_in(
        dir.path(),
        &["check", "repo", "--policy", "policies", "--format", "json"],
    );
    assert_eq!(out.code, 2);
    // `*` is the unexpected token: line 11, column 24 of the policy file.
    assert_eq!(findings(&out), ["policies/bad.yaml:11:24 policy-error"]);
}

#[test]
fn runtime_error_is_a_policy_error_on_the_entity() {
    let policy = BAD_CEL.replace("object.name == \"a\" &&", "object.nosuchfield == 'a'");
    let cluster = "apiVersion: planelint/v1\nkind: Cluster\nmetadata:\n  name: c1\n";
    let dir = repo(&[("policies/rt.yaml", &policy), ("repo/c.yaml", cluster)]);
    let out = planelint_in(
        dir.path(),
        &["check", "repo", "--policy", "policies", "--format", "json"],
    );
    assert_eq!(out.code, 1);
    assert_eq!(findings(&out), ["repo/c.yaml:4:9 policy-error"]);
    assert_eq!(
        json(&out)["diagnostics"][0]["message"],
        "policy `bad-cel` could not be evaluated on clusters[c1]: no such key: nosuchfield (in `object.nosuchfield == 'a'`)"
    );
}

#[test]
fn hostile_policies_are_rejected_or_stopped() {
    let long = vec!["1"; 5000].join(" + ");
    let plus = vec!["1"; 6000].join("+");
    let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    let nested = "[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, [0,1,2,3,4,5,6,7,8,9].all(d, true))))".to_string();
    for (expression, message) in [
        (long.as_str(), "the expression is longer than 16384 bytes"),
        (
            plus.as_str(),
            "expression rejected: the expression nests deeper than 4096 levels",
        ),
        (deep.as_str(), "invalid CEL: "),
        (
            nested.as_str(),
            "expression rejected: comprehensions nest deeper than 3 levels",
        ),
    ] {
        let block = format!("|\n        {expression}");
        let policy = BAD_CEL.replace("object.name == \"a\" &&", &block);
        let dir = repo(&[("policies/p.yaml", &policy), ("repo/x.yaml", "a: 1\n")]);
        let out = planelint_in(
            dir.path(),
            &["check", "repo", "--policy", "policies", "--format", "json"],
        );
        assert_eq!(out.code, 2, "{}", out.stdout);
        let got = json(&out)["diagnostics"][0]["message"].as_str().unwrap().to_string();
        let named = format!("policy `bad-cel` does not compile: {message}");
        assert!(got.starts_with(&named), "{got}");
    }
}

#[test]
fn a_runaway_evaluation_is_stopped_by_its_budget() {
    // Three nested loops over 300 clusters: 27 million steps, over a budget of
    // 100,000 (the deadline is set far off so that the step budget decides).
    // The policy stops on the first cluster; the others are not evaluated.
    let policy = BAD_CEL.replace(
        "object.name == \"a\" &&",
        "model.clusters.all(a, model.clusters.all(b, model.clusters.all(c, a.name != '')))",
    );
    let clusters: String = (0..300)
        .map(|i| format!("apiVersion: planelint/v1\nkind: Cluster\nmetadata: {{name: c{i}}}\n---\n"))
        .collect();
    let dir = repo(&[("policies/p.yaml", &policy), ("repo/clusters.yaml", &clusters)]);
    let options = Options {
        paths: vec![dir.path().join("repo")],
        policy_dirs: vec![dir.path().join("policies")],
        no_builtin: true,
        engine_limits: Limits {
            max_steps: 100_000,
            deadline: Duration::from_secs(600),
            ..Limits::default()
        },
        ..Options::default()
    };
    let run = check(&options, dir.path()).unwrap();
    assert_eq!(run.exit_code(), planelint::exit::Exit::Findings);
    let messages: Vec<&str> = run.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 300);
    assert_eq!(
        messages[0],
        "policy `bad-cel` could not be evaluated on clusters[c0]: evaluation exceeded its budget of 100000 steps"
    );
    assert_eq!(
        messages[299],
        "policy `bad-cel` not evaluated: the policy was stopped on clusters[c0] after exceeding its budget"
    );
    assert!(run.diagnostics.iter().all(|d| d.rule.as_str() == "policy-error"));
}

#[test]
fn a_repeated_key_gets_its_occurrence_in_the_model_path() {
    let out = planelint(&["check", "fixtures/rules/placement-duplicate/fires", "--format", "json"]);
    assert_eq!(out.code, 1);
    let report = json(&out);
    let finding = &report["diagnostics"][0];
    assert_eq!(finding["model_path"], "placements[development]#2.domain");
    assert_eq!(finding["related"][0]["message"], "placements[development].domain");
    assert_eq!(
        finding["message"],
        "unit development is already placed on gcp-project-acme-development"
    );
}

const BASE_VALUES: &str = "\
global:
  CLUSTER_NAME: \"\"
  ORG_NAME: \"acme-corp\"
  METADATA_BUCKET: \"\"
provider: aws
storage:
  provider: aws
  bucketName: '{{ .Values.global.METADATA_BUCKET }}'
";

const CLUSTER_VALUES: &str = "\
global:
  CLUSTER_NAME: eks-prod
  AWS_ACCOUNT_ID: \"111111111111\"
  METADATA_BUCKET: acme-stray-metadata
";

const LAYERED_REPO: &[(&str, &str)] = &[
    ("charts/values.yaml", BASE_VALUES),
    ("clusters/eks-prod.yaml", CLUSTER_VALUES),
    (
        "manifests.yaml",
        "apiVersion: planelint/v1\nkind: DataPlane\nmetadata: {name: acme}\n---\n\
         apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {name: prod}\nspec: {metadataBucket: acme-prod-metadata}\n---\n\
         apiVersion: planelint/v1\nkind: Cluster\nmetadata: {name: eks-prod}\nspec: {pool: prod}\n",
    ),
];

#[test]
fn layered_values_files_are_one_cluster_with_each_value_at_its_own_line() {
    let mut files = LAYERED_REPO.to_vec();
    files.push((
        ".planelint.yaml",
        "layers:\n  - [charts/values.yaml, clusters/eks-prod.yaml]\n",
    ));
    let dir = repo(&files);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1);
    // The organization comes from the chart's file; the bucket from the
    // cluster's file, through the chart's `storage.bucketName` template.
    assert_eq!(
        findings(&out),
        [
            "charts/values.yaml:3:13 org-name-mismatch",
            "clusters/eks-prod.yaml:4:20 pool-metadata-bucket-mismatch"
        ]
    );
    let report = json(&out);
    assert_eq!(report["diagnostics"][1]["related"][0]["file"], "manifests.yaml");
}

#[test]
fn without_layers_a_chart_defaults_file_describes_no_cluster() {
    let dir = repo(LAYERED_REPO);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    // The cluster's own file alone: its bucket, and no organization.
    assert_eq!(
        findings(&out),
        ["clusters/eks-prod.yaml:4:20 pool-metadata-bucket-mismatch"]
    );
}
