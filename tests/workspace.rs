//! The same model wherever planelint runs, and nothing silently lost: runs
//! from subdirectories, monorepos and several config roots, what discovery
//! leaves out (and says), file identity, policies inside the tree, findings
//! that cannot be hidden, and exit codes that cannot lie. Every case runs the
//! real binary from the directory it names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{findings, json, planelint_in, repo, write};
use std::path::Path;
use std::process::{Command, Stdio};

fn pool(name: &str, bucket: &str) -> String {
    format!(
        "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata:\n  name: {name}\nspec:\n  metadataBucket: {bucket}\n"
    )
}

fn cluster(name: &str, pool: &str, bucket: &str) -> String {
    format!(
        "apiVersion: planelint/v1\nkind: Cluster\nmetadata:\n  name: {name}\nspec:\n  pool: {pool}\n  metadataBucket: {bucket}\n"
    )
}

/// A git repository whose cluster's bucket differs from its pool's.
fn mismatched_repo() -> tempfile::TempDir {
    repo(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("pools/p.yaml", &pool("prod", "s3://prod-meta")),
        ("clusters/c.yaml", &cluster("c1", "prod", "s3://other-meta")),
    ])
}

const MISMATCH_FROM_CLUSTERS: &str = "\
c.yaml:7:19: error[pool-metadata-bucket-mismatch]: cluster c1 uses metadata bucket other-meta, but its pool prod uses prod-meta
7 |   metadataBucket: s3://other-meta
  |                   ^^^^^^^^^^^^^^^
  = related: ../pools/p.yaml:6:19: pools[prod].metadataBucket
  = help: Clusters in one cluster pool share the pool's metadata bucket.

1 error, 0 warnings, 0 notes in 1 file
";

#[test]
fn a_subdirectory_run_builds_the_model_of_the_whole_root() {
    let dir = mismatched_repo();
    let clusters = dir.path().join("clusters");
    for args in [&["check", "c.yaml"][..], &["check", "."], &["check"]] {
        let out = planelint_in(&clusters, args);
        assert_eq!((out.code, out.stdout.as_str()), (1, MISMATCH_FROM_CLUSTERS), "{args:?}");
    }
    let from_root = MISMATCH_FROM_CLUSTERS
        .replace("c.yaml:7:19", "clusters/c.yaml:7:19")
        .replace("../pools/", "pools/");
    for args in [&["check", "clusters/c.yaml"][..], &["check", "clusters"]] {
        let out = planelint_in(dir.path(), args);
        assert_eq!((out.code, out.stdout.as_str()), (1, from_root.as_str()), "{args:?}");
    }
    // Fingerprints name files below the root: the same from both places.
    let fingerprint = |cwd: &Path, path: &str| {
        json(&planelint_in(cwd, &["check", path, "--format", "json"]))["diagnostics"][0]["fingerprint"].clone()
    };
    assert_eq!(
        fingerprint(&clusters, "c.yaml"),
        fingerprint(dir.path(), "clusters/c.yaml")
    );
    // The pools directory alone shows the finding too: it relates to it.
    let out = planelint_in(&dir.path().join("pools"), &["check", "--format", "json"]);
    assert_eq!(
        findings(&out),
        ["../clusters/c.yaml:7:19 pool-metadata-bucket-mismatch"]
    );
}

#[test]
fn report_and_graph_from_a_subdirectory_see_the_whole_root() {
    let dir = mismatched_repo();
    let clusters = dir.path().join("clusters");
    let out = planelint_in(&clusters, &["graph", ".", "--format", "mermaid"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("prod-meta"),
        "the pool's bucket is in the graph:\n{}",
        out.stdout
    );
    let out = planelint_in(&clusters, &["report", ".", "--format", "markdown"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("| `prod` | `prod-meta` | `c1` | — | — | `other-meta` | #&#8203;1 |"),
        "{}",
        out.stdout
    );
}

/// A monorepo: the data plane lives in infra/dataplane with its config.
fn monorepo() -> tempfile::TempDir {
    repo(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("app/config.yaml", "a: 1\n"),
        (
            "infra/dataplane/.planelint.yaml",
            "rules:\n  pool-metadata-bucket-mismatch: warning\n",
        ),
        ("infra/dataplane/pools/p.yaml", &pool("prod", "s3://prod-meta")),
        (
            "infra/dataplane/clusters/c.yaml",
            &cluster("c1", "prod", "s3://other-meta"),
        ),
    ])
}

#[test]
fn the_config_is_found_from_the_files_not_the_working_directory() {
    let dir = monorepo();
    // pre-commit from the top level names the changed file; CI names the folder.
    for args in [
        &["check", "infra/dataplane/clusters/c.yaml", "--format", "json"][..],
        &["check", "infra/dataplane", "--format", "json"],
    ] {
        let out = planelint_in(dir.path(), args);
        assert_eq!(out.code, 0, "a warning does not fail: {args:?}");
        let report = json(&out);
        assert_eq!(report["diagnostics"][0]["severity"], "warning", "{args:?}");
        assert_eq!(
            findings(&out),
            ["infra/dataplane/clusters/c.yaml:7:19 pool-metadata-bucket-mismatch"]
        );
    }
    let out = planelint_in(dir.path(), &["check", "--show-config", "infra/dataplane"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with(
            "# root: infra/dataplane\n# config file: infra/dataplane/.planelint.yaml\npolicies: []  # default\nrules:\n  pool-metadata-bucket-mismatch: warning  # infra/dataplane/.planelint.yaml:2:34\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn several_config_roots_each_get_their_settings_and_model() {
    let dir = repo(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (
            "a/.planelint.yaml",
            "failLevel: warning\nrules:\n  pool-metadata-bucket-mismatch: warning\n",
        ),
        ("a/pools.yaml", &pool("prod", "s3://a-meta")),
        ("a/clusters.yaml", &cluster("c1", "prod", "s3://shared-meta")),
        (
            "b/.planelint.yaml",
            "rules:\n  pool-metadata-bucket-mismatch: warning\n",
        ),
        ("b/pools.yaml", &pool("prod", "s3://b-meta")),
        ("b/clusters.yaml", &cluster("c1", "prod", "s3://shared-meta")),
    ]);
    // Each root is one model: the same names in a/ and b/ do not clash.
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        findings(&out),
        [
            "a/clusters.yaml:7:19 pool-metadata-bucket-mismatch",
            "b/clusters.yaml:7:19 pool-metadata-bucket-mismatch"
        ]
    );
    // a/ fails at warnings, b/ does not.
    assert_eq!(out.code, 1);
    assert_eq!(planelint_in(dir.path(), &["check", "b"]).code, 0);
    assert_eq!(planelint_in(dir.path(), &["check", "a"]).code, 1);
    let out = planelint_in(dir.path(), &["check", "--show-config"]);
    let roots: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("# ")).collect();
    assert_eq!(
        roots,
        [
            "# root: .",
            "# config file: none",
            "# root: a",
            "# config file: a/.planelint.yaml",
            "# root: b",
            "# config file: b/.planelint.yaml"
        ]
    );
}

#[test]
fn hidden_files_are_linted_and_only_the_repositorys_ignore_files_count() {
    let dir = tempfile::tempdir().unwrap();
    // A .gitignore above the repository is not the repository's.
    write(dir.path(), ".gitignore", "*.yaml\n");
    let top = dir.path().join("top");
    write(&top, ".git/info/exclude", "sub/*.local.yaml\n");
    write(&top, ".gitignore", "ignored/\n*.gen.yaml\n");
    write(&top, "sub/.gitignore", "!keep.gen.yaml\n");
    write(&top, ".ignore", "ok.yaml\n");
    for file in [
        "ignored/a.yaml",
        "x.gen.yaml",
        "sub/keep.gen.yaml",
        "sub/s.local.yaml",
        "sub/t.yaml",
        ".deploy/c.yaml",
        ".prod.yaml",
        "ok.yaml",
        "node_modules/x/n.yaml",
        "charts/c/Chart.yaml",
    ] {
        write(&top, file, "a: 1\n");
    }
    write(&top, "charts/c/templates/d.yaml", "a: {{ .Values.x }}\n");
    let out = planelint_in(&top, &["check", "--show-skipped"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "no findings in 6 files (4 skipped, 6 documents not read)\n")
    );
    assert_eq!(
        out.stderr,
        "planelint: skipped charts/c/templates/d.yaml: a Helm chart template, not YAML until rendered\n\
         planelint: skipped ignored/a.yaml: ignored by .gitignore\n\
         planelint: skipped sub/s.local.yaml: ignored by .git/info/exclude\n\
         planelint: skipped x.gen.yaml: ignored by .gitignore\n"
    );
    let out = planelint_in(&top, &["check", "--format", "json"]);
    assert_eq!(
        json(&out)["skipped"][1],
        serde_json::json!({"file": "ignored/a.yaml", "reason": "ignored by .gitignore"})
    );
    // A hidden file with a finding is reported.
    write(&top, ".deploy/c.yaml", &cluster("c1", "nowhere", "b"));
    let out = planelint_in(&top, &["check", "--format", "json"]);
    assert_eq!(findings(&out), [".deploy/c.yaml:6:9 cluster-pool-unknown"]);
    // A file named on the command line is linted even when ignored.
    let out = planelint_in(&top, &["check", "x.gen.yaml"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "no findings in 1 file (1 document not read)\n")
    );
}

#[test]
fn a_config_can_lint_helm_templates() {
    let dir = repo(&[
        ("charts/c/Chart.yaml", "name: c\n"),
        ("charts/c/templates/d.yaml", "a: {{ .Values.x }}\n"),
        ("charts/c/templates/cluster.yaml", &cluster("c1", "nowhere", "b")),
    ]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "no findings in 1 file (2 skipped, 1 document not read)\n")
    );
    write(dir.path(), ".planelint.yaml", "helmTemplates: lint\n");
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        findings(&out),
        ["charts/c/templates/cluster.yaml:6:9 cluster-pool-unknown"]
    );
    assert_eq!(json(&out)["summary"]["skipped_files"], 0);
    let out = planelint_in(dir.path(), &["check", "--show-config"]);
    assert!(
        out.stdout.contains("helmTemplates: lint  # .planelint.yaml:1:16\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn outside_a_git_repository_no_ignore_file_applies() {
    let dir = repo(&[
        (".gitignore", "ignored/\n"),
        ("ignored/a.yaml", "a: 1\n"),
        ("ok.yaml", "a: 1\n"),
    ]);
    let out = planelint_in(dir.path(), &["check"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "no findings in 2 files (2 documents not read)\n")
    );
}

#[cfg(unix)]
#[test]
fn files_are_one_only_when_the_file_system_says_so() {
    use std::os::unix::ffi::OsStrExt;
    let dir = repo(&[("a\\b.yaml", &pool("p1", "one")), ("a/b.yaml", &pool("p2", "one"))]);
    for name in [&b"caf\xe9.yaml"[..], b"caf\xe8.yaml"] {
        std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), pool("p3", "two")).unwrap();
    }
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(
        findings(&out),
        [
            "a\\b.yaml:6:19 pool-metadata-bucket-shared",
            "caf\\xe9.yaml:6:19 pool-metadata-bucket-shared"
        ]
    );
    assert_eq!(json(&out)["summary"]["files"], 4);
    let out = planelint_in(dir.path(), &["check"]);
    assert!(
        out.stdout
            .contains("= related: caf\\xe8.yaml:6:19: pools[p3].metadataBucket"),
        "{}",
        out.stdout
    );
}

#[test]
fn include_and_exclude_apply_the_same_from_a_subdirectory() {
    let dir = repo(&[
        (".planelint.yaml", "exclude: ['generated/**']\n"),
        ("generated/c.yaml", &cluster("c1", "nowhere", "b")),
        ("sub/c.yaml", "a: 1\n"),
    ]);
    let from_root = planelint_in(dir.path(), &["check", "--show-skipped"]);
    assert_eq!(
        (from_root.code, from_root.stdout.as_str()),
        (0, "no findings in 1 file (1 skipped, 1 document not read)\n")
    );
    assert_eq!(
        from_root.stderr,
        "planelint: skipped generated/c.yaml: left out by include/exclude of .planelint.yaml\n"
    );
    let from_sub = planelint_in(&dir.path().join("sub"), &["check", "..", "--show-skipped"]);
    assert_eq!(
        (from_sub.code, from_sub.stdout.as_str()),
        (0, "no findings in 1 file (1 skipped, 1 document not read)\n")
    );
    assert_eq!(
        from_sub.stderr,
        "planelint: skipped ../generated/c.yaml: left out by include/exclude of ../.planelint.yaml\n"
    );
}

const POLICY: &str = "apiVersion: planelint/v1
kind: Policy
metadata:
  name: pool-name-short
spec:
  severity: warning
  summary: Pool names are short.
  forEach: pools
  validations:
    - expression: size(object.name) <= 8
      message: the pool name is long
";

#[test]
fn policy_files_in_the_tree_are_read_as_policies_only() {
    let dir = repo(&[
        (".planelint.yaml", "policies: [policies/local]\n"),
        ("policies/local/short.yaml", POLICY),
        ("pools.yaml", &pool("prod", "prod-meta")),
        (
            "elsewhere/stray-policy.yaml",
            &POLICY.replace("pool-name-short", "stray"),
        ),
    ]);
    // The stray policy is not an unknown kind; it is not loaded, and said so.
    let out = planelint_in(dir.path(), &["check", "--show-skipped"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "no findings in 2 files (1 skipped)\n")
    );
    assert_eq!(
        out.stderr,
        "planelint: skipped elsewhere/stray-policy.yaml: its Policy is outside the policy directories and was not loaded (add its directory to `policies:`)\n"
    );
    // The same directory named again, with a trailing slash, is loaded once.
    std::fs::remove_file(dir.path().join("elsewhere/stray-policy.yaml")).unwrap();
    let out = planelint_in(
        dir.path(),
        &["check", "--policy", "policies/local/", "--policy", "./policies/local"],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, "no findings in 1 file\n"));
    let out = planelint_in(dir.path(), &["rules"]);
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("pool-name-short ")).count(),
        1
    );
}

const BROKEN: &str = "apiVersion: planelint/v1
kind: Cluster
metadata: {name: c1  # planelint: ignore[yaml-syntax] a file we know is broken
";

#[test]
fn what_was_not_checked_cannot_be_suppressed_or_baselined() {
    let dir = repo(&[
        ("broken.yaml", BROKEN),
        ("pools.yaml", &pool("prod", "shared")),
        ("more.yaml", &pool("dev", "shared")),
    ]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        findings(&out),
        [
            "broken.yaml:3:19 yaml-syntax",
            "broken.yaml:3:42 suppression-invalid",
            "pools.yaml:6:19 pool-metadata-bucket-shared"
        ]
    );
    assert_eq!(
        json(&out)["diagnostics"][1]["message"],
        "`yaml-syntax` says that something was not checked; it cannot be suppressed: fix the input"
    );
    // --select and --ignore do not hide it either.
    let out = planelint_in(
        dir.path(),
        &[
            "check",
            "--ignore",
            "yaml-syntax",
            "--select",
            "pool-metadata-bucket-shared",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        findings(&out),
        [
            "broken.yaml:3:19 yaml-syntax",
            "pools.yaml:6:19 pool-metadata-bucket-shared"
        ]
    );
    // A baseline records the findings; it hides the bucket finding only.
    let out = planelint_in(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = planelint_in(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(out.code, 1);
    assert_eq!(
        findings(&out),
        ["broken.yaml:3:19 yaml-syntax", "broken.yaml:3:42 suppression-invalid"]
    );
    // Once pools.yaml is not fully checked, its recorded finding shows again.
    std::fs::write(
        dir.path().join("pools.yaml"),
        format!("{}---\na: [\n", pool("prod", "shared")),
    )
    .unwrap();
    let out = planelint_in(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(
        findings(&out),
        [
            "broken.yaml:3:19 yaml-syntax",
            "broken.yaml:3:42 suppression-invalid",
            "pools.yaml:6:19 pool-metadata-bucket-shared",
            "pools.yaml:8:4 yaml-syntax"
        ]
    );
}

#[test]
fn adding_a_file_with_the_same_key_does_not_revive_a_baselined_finding() {
    let dir = repo(&[
        ("pools.yaml", &pool("prod", "shared")),
        ("more.yaml", &pool("dev", "shared")),
    ]);
    let out = planelint_in(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Another pool prod, in a file walked first: pools.yaml's pool prod is
    // still the first of its file, and its finding still the recorded one.
    std::fs::write(dir.path().join("a.yaml"), pool("prod", "prod-meta")).unwrap();
    let out = planelint_in(
        dir.path(),
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(findings(&out), Vec::<String>::new(), "{}", out.stdout);
}

#[test]
fn a_closed_pipe_still_exits_with_the_findings_code() {
    let dir = mismatched_repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_planelint"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end before the report is written: `| head -0`.
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn report_and_graph_exit_2_when_a_policy_does_not_load() {
    let broken = POLICY.replace("size(object.name) <= 8", "size(object.name <= 8");
    let dir = repo(&[
        ("policies/p.yaml", &broken),
        ("repo/pools.yaml", &pool("prod", "prod-meta")),
    ]);
    for args in [
        &["report", "repo", "--policy", "policies", "--format", "markdown"][..],
        &["graph", "repo", "--policy", "policies"],
    ] {
        let out = planelint_in(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}");
        assert!(
            out.stderr.starts_with("planelint: policies/p.yaml:10:40: policy-error: policy `pool-name-short` does not compile: invalid CEL:"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn a_policy_directory_shared_by_several_roots_reports_its_problems_once() {
    let broken = POLICY.replace("size(object.name) <= 8", "size(object.name <= 8");
    let dir = repo(&[
        ("policies/p.yaml", &broken),
        ("a/.planelint.yaml", ""),
        ("a/pools.yaml", &pool("prod", "a-meta")),
        ("b/.planelint.yaml", ""),
        ("b/pools.yaml", &pool("prod", "b-meta")),
    ]);
    let out = planelint_in(
        dir.path(),
        &["check", "a", "b", "--policy", "policies", "--format", "json"],
    );
    assert_eq!(out.code, 2);
    assert_eq!(findings(&out), ["policies/p.yaml:10:40 policy-error"]);
}
