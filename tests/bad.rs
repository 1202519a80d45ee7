//! The corpus of broken and hostile input (issue 7): every case gives exactly
//! its findings (`file:line:col rule`), its exit code and its counters
//! (skipped files, policy errors, inputs over a limit), with no panic and no
//! hang. Small cases live in `fixtures/bad/<case>/`; big or special files
//! (deep nesting, invalid UTF-8, NUL bytes, symlinks, FIFOs, unreadable
//! files) are made by the test in a temporary copy. Time and memory are
//! measured by `fuzz/measure.sh`, not here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Output, findings, json, planelint_within, root};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

struct Case {
    /// The test's name, and the `fixtures/bad/` directory copied first (if any).
    name: &'static str,
    /// Files made at run time in the copy.
    make: fn(&Path),
    /// Arguments after `check --format json`.
    args: &'static [&'static str],
    findings: &'static [&'static str],
    exit: i32,
    /// `skipped_files`, `policy_errors`, `input_limits` of the summary.
    counters: [u64; 3],
}

fn nothing(_: &Path) {}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

const CLUSTER: &str = "apiVersion: planelint/v1\nkind: Cluster\n";

/// A policy error on each of the five clusters of [`five_clusters`].
const FIVE_POLICY_ERRORS: &[&str] = &[
    "repo/c.yaml:3:18 policy-error",
    "repo/c.yaml:7:18 policy-error",
    "repo/c.yaml:11:18 policy-error",
    "repo/c.yaml:15:18 policy-error",
    "repo/c.yaml:19:18 policy-error",
];

/// Whether permissions bind this process (they do not for root).
fn permissions_bind(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    let binds = std::fs::read(&probe).is_err();
    std::fs::remove_file(&probe).unwrap();
    binds
}

/// A case from `fixtures/bad/<name>/` alone, expectations to fill in below.
const fn fixture(name: &'static str, findings: &'static [&'static str], exit: i32, counters: [u64; 3]) -> Case {
    Case {
        name,
        make: nothing,
        args: &[],
        findings,
        exit,
        counters,
    }
}

const CASES: &[Case] = &[
    fixture("truncated-quote", &["c.yaml:4:9 yaml-syntax"], 1, [0, 0, 0]),
    fixture("truncated-flow", &["c.yaml:4:20 yaml-syntax"], 1, [0, 0, 0]),
    fixture("truncated-mid-key", &["c.yaml:6:3 manifest-schema"], 1, [0, 0, 0]),
    fixture("tab-indentation", &["c.yaml:4:1 yaml-syntax"], 1, [0, 0, 0]),
    fixture("tab-after-value", &["c.yaml:6:10 yaml-syntax"], 1, [0, 0, 0]),
    fixture("merge-conflict", &["c.yaml:6:1 yaml-syntax"], 1, [0, 0, 0]),
    fixture("configmap-broken-yaml", &["cm.yaml:8:47 yaml-syntax"], 1, [0, 0, 0]),
    fixture(
        "bom",
        &["c.yaml:4:8 manifest-schema", "c.yaml:4:26 manifest-schema"],
        1,
        [0, 0, 0],
    ),
    fixture("bom-first-line", &["c.yaml:1:13 manifest-schema"], 1, [0, 0, 0]),
    fixture(
        "crlf",
        &["c.yaml:3:22 manifest-schema", "c.yaml:5:3 manifest-schema"],
        1,
        [0, 0, 0],
    ),
    fixture(
        "mixed-line-endings",
        &["c.yaml:3:22 manifest-schema", "c.yaml:5:3 manifest-schema"],
        1,
        [0, 0, 0],
    ),
    // A suppression comment covers the next line in a file whose lines end
    // with a lone CR (old Mac); the unsuppressed finding is on line 12.
    fixture(
        "cr-only-suppression",
        &["c.yaml:12:9 cluster-pool-unknown"],
        0,
        [0, 0, 0],
    ),
    // A finding on a block scalar starts at its `|-` indicator.
    fixture("block-scalar-value", &["c.yaml:5:9 cluster-pool-unknown"], 0, [0, 0, 0]),
    fixture("empty", &[], 0, [0, 0, 0]),
    fixture("only-comments", &[], 0, [0, 0, 0]),
    fixture("only-separators", &[], 0, [0, 0, 0]),
    fixture("scalar-document", &[], 0, [0, 0, 0]),
    fixture(
        "duplicate-keys",
        &[
            "c.yaml:5:3 yaml-syntax",
            "c.yaml:8:9 cluster-pool-unknown",
            "c.yaml:9:3 yaml-syntax",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "anchors-aliases",
        &[
            "d.yaml:8:46 placement-account-shared",
            "d.yaml:8:46 production-shares-with-nonproduction",
            "d.yaml:9:7 placement-account-shared",
            "d.yaml:9:7 placement-duplicate",
        ],
        1,
        [0, 0, 0],
    ),
    fixture("alias-across-documents", &["pools.yaml:9:7 yaml-syntax"], 1, [0, 0, 0]),
    fixture(
        "anchor-redefined",
        &["c.yaml:4:16 manifest-schema", "c.yaml:4:28 manifest-schema"],
        1,
        [0, 0, 0],
    ),
    fixture("merge-keys", &["c.yaml:7:23 manifest-schema"], 1, [0, 0, 0]),
    fixture("merge-key-not-mapping", &["c.yaml:5:7 yaml-syntax"], 1, [0, 0, 0]),
    fixture("alias-unknown-anchor", &["c.yaml:4:7 yaml-syntax"], 1, [0, 0, 0]),
    fixture("billion-laughs", &["lol.yaml:6:8 input-limit"], 1, [0, 0, 1]),
    fixture(
        "values-references-fan-out",
        &["values.yaml:12:5 input-limit"],
        1,
        [0, 0, 1],
    ),
    fixture(
        "values-references-cycle",
        &["values.yaml:7:29 input-limit"],
        1,
        [0, 0, 1],
    ),
    fixture(
        "values-references-deep",
        &["values.yaml:11:5 input-limit"],
        1,
        [0, 0, 1],
    ),
    fixture("alias-depth-chain", &["chain.yaml:2:109 input-limit"], 1, [0, 0, 1]),
    fixture(
        "numbers-for-strings",
        &[
            "c.yaml:3:18 manifest-schema",
            "c.yaml:5:12 manifest-schema",
            "c.yaml:6:11 manifest-schema",
            "c.yaml:7:9 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "numbers-out-of-range",
        &[
            "c.yaml:5:12 manifest-schema",
            "c.yaml:6:11 manifest-schema",
            "c.yaml:7:9 cluster-pool-unknown",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "strings-for-booleans",
        &[
            "d.yaml:6:14 placement-missing",
            "d.yaml:6:32 manifest-schema",
            "d.yaml:7:14 placement-missing",
            "d.yaml:7:31 manifest-schema",
            "d.yaml:8:31 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "lists-and-mappings-swapped",
        &[
            "c.yaml:3:11 manifest-schema",
            "c.yaml:9:10 manifest-schema",
            "c.yaml:10:11 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "complex-keys",
        &[
            "c.yaml:5:5 manifest-schema",
            "c.yaml:7:5 manifest-schema",
            "c.yaml:9:3 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "tags",
        &[
            "c.yaml:4:16 manifest-schema",
            "c.yaml:4:34 manifest-schema",
            "c.yaml:4:51 cluster-pool-unknown",
        ],
        1,
        [0, 0, 0],
    ),
    fixture("unknown-api-version", &["c.yaml:1:13 manifest-schema"], 1, [0, 0, 0]),
    fixture(
        "unknown-kind",
        &[
            "c.yaml:2:7 manifest-schema",
            "c.yaml:5:13 manifest-schema",
            "c.yaml:9:7 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "missing-required",
        &[
            "c.yaml:3:1 manifest-schema",
            "c.yaml:6:7 manifest-schema",
            "c.yaml:13:13 manifest-schema",
            "c.yaml:14:16 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "multi-document-mixed",
        &[
            "m.yaml:9:24 pool-metadata-bucket-shared",
            "m.yaml:14:8 manifest-schema",
            "m.yaml:19:1 yaml-syntax",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "non-ascii-names",
        &[
            "c.yaml:9:24 pool-metadata-bucket-shared",
            "c.yaml:14:37 manifest-schema",
        ],
        1,
        [0, 0, 0],
    ),
    fixture(
        "escaped-controls-in-names",
        &["c.yaml:9:24 pool-metadata-bucket-shared"],
        1,
        [0, 0, 0],
    ),
    Case {
        name: "limit-flags",
        args: &["--max-documents", "3"],
        ..fixture("limit-flags", &["c.yaml:13:1 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "limit-flags",
        args: &["--max-depth", "1"],
        ..fixture("limit-flags", &["c.yaml:3:11 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "limit-flags",
        args: &["--max-file-size", "64"],
        ..fixture("limit-flags", &["c.yaml:1:1 input-limit"], 1, [1, 0, 1])
    },
    Case {
        name: "limit-flags",
        args: &["--max-nodes", "10"],
        ..fixture("limit-flags", &["c.yaml:4:7 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "many-nodes",
        make: |dir| write(dir, "nodes.yaml", "- a\n".repeat(500_001)),
        args: &["--max-nodes", "500000"],
        ..fixture("many-nodes", &["nodes.yaml:500000:3 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "billion-laughs",
        args: &["--max-alias-nodes", "1000000"],
        ..fixture("billion-laughs", &["lol.yaml:7:8 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "long-line",
        make: |dir| {
            let value = "x".repeat(1 << 20);
            write(
                dir,
                "c.yaml",
                format!("{CLUSTER}metadata: {{name: c1}}\nspec: {{region: \"{value}\", regio: x}}\n"),
            );
        },
        ..fixture("long-line", &["c.yaml:4:1048596 manifest-schema"], 1, [0, 0, 0])
    },
    Case {
        name: "invalid-utf8",
        make: |dir| {
            write(
                dir,
                "c.yaml",
                b"apiVersion: planelint/v1\nkind: Cluster\nmetadata: {name: c\xff1}\n",
            )
        },
        ..fixture("invalid-utf8", &["c.yaml:3:19 yaml-syntax"], 1, [1, 0, 0])
    },
    Case {
        name: "nul-bytes",
        make: |dir| write(dir, "c.yaml", format!("{CLUSTER}metadata: {{name: c\u{0}1}}\n")),
        ..fixture("nul-bytes", &["c.yaml:3:19 yaml-syntax"], 1, [0, 0, 0])
    },
    Case {
        name: "binary-png-named-yaml",
        make: |dir| {
            write(
                dir,
                "image.yaml",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
            )
        },
        ..fixture("binary-png-named-yaml", &["image.yaml:1:1 yaml-syntax"], 1, [1, 0, 0])
    },
    Case {
        name: "binary-utf8-controls",
        make: |dir| write(dir, "x.yml", "\u{1}\u{2}\u{3}\u{7f}\u{1b}[31m"),
        ..fixture("binary-utf8-controls", &["x.yml:1:1 yaml-syntax"], 1, [0, 0, 0])
    },
    Case {
        name: "deep-block-100k",
        make: |dir| write(dir, "deep.yaml", format!("{}x\n", "- ".repeat(100_000))),
        ..fixture("deep-block-100k", &["deep.yaml:1:257 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "deep-block-indented",
        make: |dir| {
            let text: String = (0..2000).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
            write(dir, "deep.yaml", text);
        },
        ..fixture("deep-block-indented", &["deep.yaml:129:129 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "deep-flow-100k",
        make: |dir| {
            write(
                dir,
                "deep.yaml",
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            )
        },
        ..fixture("deep-flow-100k", &["deep.yaml:1:256 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "deep-flow-mapping-100k",
        make: |dir| {
            write(
                dir,
                "deep.yaml",
                format!("{}1{}", "{a: ".repeat(100_000), "}".repeat(100_000)),
            )
        },
        ..fixture(
            "deep-flow-mapping-100k",
            &["deep.yaml:1:1021 input-limit"],
            1,
            [0, 0, 1],
        )
    },
    Case {
        name: "too-many-documents",
        make: |dir| write(dir, "docs.yaml", "a: 1\n---\n".repeat(10_001)),
        args: &["--max-documents", "10000"],
        ..fixture("too-many-documents", &["docs.yaml:20000:1 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "wide-mapping",
        make: |dir| {
            let keys: String = (0..100_000).map(|i| format!("k{i}: v\n")).collect();
            write(dir, "wide.yaml", format!("{keys}k99999: again\n"));
        },
        ..fixture("wide-mapping", &["wide.yaml:100001:1 yaml-syntax"], 1, [0, 0, 0])
    },
    Case {
        name: "too-many-units",
        make: |dir| {
            let domains: Vec<String> = (0..400).map(|i| format!("{{name: d{i}}}")).collect();
            let projects: Vec<String> = (0..300).map(|i| format!("p{i}")).collect();
            let text = format!(
                "apiVersion: planelint/v1\nkind: DataPlane\nmetadata: {{name: acme}}\nspec:\n  isolation: project\n  domains: [{}]\n  projects: [{}]\n",
                domains.join(", "),
                projects.join(", ")
            );
            write(dir, "d.yaml", text);
        },
        args: &["--max-units", "100000"],
        ..fixture("too-many-units", &["d.yaml:7:13 input-limit"], 1, [0, 0, 1])
    },
    Case {
        name: "symlink-loop",
        make: |dir| {
            write(dir, "sub/c.yaml", "a: 1\n");
            symlink("..", dir.join("sub/up")).unwrap();
        },
        args: &["--follow-symlinks"],
        ..fixture("symlink-loop", &["sub/up:1:1 file-unreadable"], 1, [1, 0, 0])
    },
    Case {
        name: "symlink-out-of-root",
        make: symlinks_out_of_root,
        args: &["repo"],
        // The link to a file and the two links to directories.
        ..fixture("symlink-out-of-root", &[], 0, [3, 0, 0])
    },
    Case {
        name: "symlink-out-of-root-followed",
        make: symlinks_out_of_root,
        args: &["--follow-symlinks", "repo"],
        ..fixture("symlink-out-of-root-followed", &[], 0, [3, 0, 0])
    },
    Case {
        name: "symlink-to-a-scanned-file",
        make: symlink_to_a_scanned_file,
        ..fixture(
            "symlink-to-a-scanned-file",
            &["c.yaml:4:8 manifest-schema", "d/e.yaml:4:8 manifest-schema"],
            1,
            // The link to c.yaml and the link to d/, neither followed.
            [2, 0, 0],
        )
    },
    Case {
        name: "symlink-to-a-scanned-file-followed",
        make: symlink_to_a_scanned_file,
        args: &["--follow-symlinks"],
        ..fixture(
            "symlink-to-a-scanned-file-followed",
            &["c.yaml:4:8 manifest-schema", "d/e.yaml:4:8 manifest-schema"],
            1,
            [0, 0, 0],
        )
    },
    Case {
        name: "symlink-dangling",
        make: |dir| symlink("nowhere.yaml", dir.join("c.yaml")).unwrap(),
        args: &["--follow-symlinks"],
        ..fixture("symlink-dangling", &["c.yaml:1:1 file-unreadable"], 1, [1, 0, 0])
    },
    Case {
        name: "fifo",
        make: |dir| {
            mkfifo(&dir.join("x.yaml"));
            write(dir, "y.yaml", "a: 1\n");
        },
        ..fixture("fifo", &["x.yaml:1:1 file-unreadable"], 1, [1, 0, 0])
    },
    Case {
        name: "fifo-named",
        make: |dir| mkfifo(&dir.join("x.yaml")),
        args: &["x.yaml"],
        ..fixture("fifo-named", &["x.yaml:1:1 file-unreadable"], 1, [1, 0, 0])
    },
    Case {
        name: "policy-deep-parens",
        args: &["repo", "--policy", "policies"],
        ..fixture(
            "policy-deep-parens",
            &["policies/p.yaml:9:116 policy-error"],
            2,
            [0, 1, 0],
        )
    },
    Case {
        name: "policy-comprehension-nesting",
        args: &["repo", "--policy", "policies"],
        ..fixture(
            "policy-comprehension-nesting",
            &["policies/p.yaml:9:19 policy-error"],
            2,
            [0, 1, 0],
        )
    },
    Case {
        name: "policy-runtime-error",
        args: &["repo", "--policy", "policies", "--no-builtin"],
        ..fixture(
            "policy-runtime-error",
            &["repo/c.yaml:3:18 policy-error", "repo/c.yaml:11:18 policy-error"],
            1,
            [0, 2, 0],
        )
    },
    Case {
        name: "policy-broken-yaml",
        args: &["repo", "--policy", "policies"],
        ..fixture(
            "policy-broken-yaml",
            &["policies/p.yaml:3:18 yaml-syntax"],
            2,
            [0, 0, 0],
        )
    },
    Case {
        name: "policy-message-not-string",
        args: &["repo", "--policy", "policies", "--no-builtin"],
        ..fixture(
            "policy-message-not-string",
            &[
                "repo/c.yaml:3:18 policy-error",
                "repo/c.yaml:7:18 policy-error",
                "repo/c.yaml:11:18 policy-error",
            ],
            1,
            [0, 3, 0],
        )
    },
    Case {
        name: "policy-long-sum",
        make: |dir| {
            let sum = vec!["1"; 6000].join("+");
            write(dir, "policies/p.yaml", policy("long-sum", &format!("{sum} > 0")));
            write(dir, "repo/c.yaml", format!("{CLUSTER}metadata: {{name: c1}}\n"));
        },
        args: &["repo", "--policy", "policies"],
        ..fixture("policy-long-sum", &["policies/p.yaml:9:19 policy-error"], 2, [0, 1, 0])
    },
    Case {
        name: "policy-step-budget",
        make: five_clusters_and_a_cubic_policy,
        args: &[
            "repo",
            "--policy",
            "policies",
            "--no-builtin",
            "--max-eval-steps",
            "100",
        ],
        ..fixture("policy-step-budget", FIVE_POLICY_ERRORS, 1, [0, 5, 0])
    },
    Case {
        name: "policy-deadline",
        make: five_clusters_and_a_cubic_policy,
        args: &[
            "repo",
            "--policy",
            "policies",
            "--no-builtin",
            "--eval-deadline-ms",
            "0",
        ],
        ..fixture("policy-deadline", FIVE_POLICY_ERRORS, 1, [0, 5, 0])
    },
    Case {
        name: "policy-regex-too-large",
        make: |dir| {
            write(
                dir,
                "policies/p.yaml",
                policy("big-regex", "object.name.matches('(a{1000}){1000}')"),
            );
            five_clusters(dir);
        },
        args: &["repo", "--policy", "policies", "--no-builtin"],
        ..fixture("policy-regex-too-large", FIVE_POLICY_ERRORS, 1, [0, 5, 0])
    },
    Case {
        name: "policy-nested-quotes",
        make: five_clusters_and_nested_quotes,
        args: &["repo", "--policy", "policies", "--no-builtin"],
        ..fixture("policy-nested-quotes", FIVE_POLICY_ERRORS, 1, [0, 5, 0])
    },
    Case {
        name: "policy-format-refused",
        make: |dir| {
            write(
                dir,
                "policies/p.yaml",
                policy("formats", "'%s'.format([object.name]) != ''"),
            );
            five_clusters(dir);
        },
        args: &["repo", "--policy", "policies", "--no-builtin"],
        // `format` cannot be bounded: the policy does not load (exit 2).
        ..fixture(
            "policy-format-refused",
            &["policies/p.yaml:9:19 policy-error"],
            2,
            [0, 1, 0],
        )
    },
    Case {
        name: "policy-doubling-string",
        make: five_clusters_and_a_doubling_policy,
        args: &["repo", "--policy", "policies", "--no-builtin"],
        // The first cluster's evaluation runs out of bytes; the rest are not
        // evaluated (fail closed).
        ..fixture("policy-doubling-string", FIVE_POLICY_ERRORS, 1, [0, 5, 0])
    },
    Case {
        name: "policy-finding-then-budget",
        make: a_finding_then_an_exhausted_budget,
        args: &["repo", "--policy", "policies", "--no-builtin", "--max-eval-steps", "10"],
        // Each cluster's finding from the first validation is dropped: only
        // the policy error stands.
        ..fixture("policy-finding-then-budget", FIVE_POLICY_ERRORS, 1, [0, 5, 0])
    },
];

fn policy(name: &str, expression: &str) -> String {
    format!(
        "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: {name}\nspec:\n  summary: Hostile.\n  forEach: clusters\n  validations:\n    - expression: |\n        {expression}\n"
    )
}

fn five_clusters_and_a_cubic_policy(dir: &Path) {
    let expression = "model.clusters.all(a, model.clusters.all(b, model.clusters.all(c, a.name != '')))";
    write(dir, "policies/p.yaml", policy("cubic", expression));
    five_clusters(dir);
}

/// A policy whose variables double a string 40 times (a terabyte at the
/// end), on five clusters.
fn five_clusters_and_a_doubling_policy(dir: &Path) {
    let variables: String = (1..=40)
        .map(|i| {
            format!(
                "    - name: v{i}\n      expression: variables.v{} + variables.v{}\n",
                i - 1,
                i - 1
            )
        })
        .collect();
    write(
        dir,
        "policies/p.yaml",
        format!(
            "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: doubling\nspec:\n  summary: Hostile.\n  forEach: clusters\n  variables:\n    - name: v0\n      expression: object.name\n{variables}  validations:\n    - expression: size(variables.v40) > 0\n"
        ),
    );
    five_clusters(dir);
}

fn five_clusters(dir: &Path) {
    let clusters: String = (0..5)
        .map(|i| format!("{CLUSTER}metadata: {{name: c{i}}}\n---\n"))
        .collect();
    write(dir, "repo/c.yaml", clusters);
}

/// A policy quoting a quote 40 times over: each level doubles the text.
fn five_clusters_and_nested_quotes(dir: &Path) {
    let quoted = (0..40).fold("'\"'".to_string(), |inner, _| format!("strings.quote({inner})"));
    write(dir, "policies/p.yaml", policy("quotes", &format!("size({quoted}) > 0")));
    five_clusters(dir);
}

/// A policy that finds something, then runs out of steps.
fn a_finding_then_an_exhausted_budget(dir: &Path) {
    write(
        dir,
        "policies/p.yaml",
        "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: half-done\nspec:\n  summary: Hostile.\n  forEach: clusters\n  validations:\n    - expression: \"false\"\n      message: found before the budget ran out\n    - expression: model.clusters.all(a, model.clusters.all(b, a.name != ''))\n",
    );
    five_clusters(dir);
}

fn symlinks_out_of_root(dir: &Path) {
    write(
        dir,
        "outside/secret.yaml",
        format!("{CLUSTER}metadata: {{name: outside}}\nspec: {{regio: x}}\n"),
    );
    write(dir, "repo/c.yaml", format!("{CLUSTER}metadata: {{name: c1}}\n"));
    symlink("../outside/secret.yaml", dir.join("repo/secret.yaml")).unwrap();
    symlink("../outside", dir.join("repo/outside-dir")).unwrap();
    symlink("/", dir.join("repo/filesystem-root")).unwrap();
}

fn symlink_to_a_scanned_file(dir: &Path) {
    write(
        dir,
        "c.yaml",
        format!("{CLUSTER}metadata: {{name: c1}}\nspec: {{regio: x}}\n"),
    );
    write(
        dir,
        "d/e.yaml",
        format!("{CLUSTER}metadata: {{name: e1}}\nspec: {{regio: x}}\n"),
    );
    symlink("c.yaml", dir.join("a-link.yaml")).unwrap();
    symlink("d", dir.join("b-dir-link")).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn run(case: &Case) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let fixture = root().join("fixtures/bad").join(case.name);
    if fixture.is_dir() {
        copy_dir(&fixture, dir.path());
    }
    (case.make)(dir.path());
    let mut args = vec!["check", "--format", "json"];
    args.extend(case.args);
    let out = planelint_within(dir.path(), &args, Duration::from_secs(20));
    // Put permissions back, so that the temporary directory can be removed.
    for entry in walkdir::WalkDir::new(dir.path()).into_iter().flatten() {
        if !entry.path_is_symlink() {
            let _ = std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o755));
        }
    }
    out
}

fn counters(out: &Output) -> [u64; 3] {
    let summary = &json(out)["summary"];
    ["skipped_files", "policy_errors", "input_limits"].map(|k| summary[k].as_u64().unwrap())
}

#[test]
fn every_case_gives_its_findings_exit_code_and_counters() {
    let mut failures = Vec::new();
    for case in CASES {
        let out = run(case);
        assert!(!out.stderr.contains("internal error"), "{}: {}", case.name, out.stderr);
        let got = (findings(&out), out.code, counters(&out));
        let expected = (
            case.findings.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            case.exit,
            case.counters,
        );
        if std::env::var_os("BAD_PRINT").is_some() {
            println!("{}: {:?}", case.name, got);
        }
        if got != expected {
            failures.push(format!("{}: expected {expected:?}\n  got {got:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scanned_text_cannot_break_the_output_formats() {
    let dir = root().join("fixtures/bad/escaped-controls-in-names");
    let out = planelint_within(&dir, &["check", "--format", "json"], Duration::from_secs(20));
    assert_eq!(out.code, 1);
    // JSON escapes every control character: the message round-trips exactly.
    assert_eq!(
        json(&out)["diagnostics"][0]["message"],
        "pool </failure>\u{202e} uses metadata bucket b\u{1b}[2J, which pool x\n::error::y already uses"
    );
    // The terminal gets no control character and no bidirectional override
    // from the scanned text: each is U+FFFD, so no line starts with `::`.
    let human = planelint_within(&dir, &["check"], Duration::from_secs(20));
    assert_eq!(human.code, 1);
    assert_eq!(
        human.stdout.lines().next().unwrap(),
        "c.yaml:9:24: error[pool-metadata-bucket-shared]: pool </failure>\u{fffd} uses metadata bucket b\u{fffd}[2J, which pool x\u{fffd}::error::y already uses"
    );
    assert!(!human.stdout.contains('\u{1b}') && !human.stdout.contains('\u{202e}'));
    assert!(human.stdout.lines().all(|l| !l.starts_with("::")));
}

/// What no output may carry raw from `fixtures/bad/hostile-names`: the
/// controls and the bidirectional override of its names.
const HIDDEN: &[char] = &['\u{202e}', '\u{85}', '\u{1b}', '\0'];

#[test]
fn hostile_names_are_inert_in_every_output() {
    let dir = root().join("fixtures/bad/hostile-names");
    let written = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = planelint_within(&dir, args, Duration::from_secs(20));
        assert!(out.code <= 1, "{args:?}: {}", out.stderr);
        assert!(!out.stdout.contains(HIDDEN), "{args:?} writes a hidden character raw");
        out.stdout
    };
    let report = |format: &str| {
        let path = written.path().join(format);
        let path = path.to_str().unwrap();
        run(&["report", "--format", format, "--output", path]);
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            !text.contains(HIDDEN),
            "the {format} report writes a hidden character raw"
        );
        text
    };
    // Markdown: no HTML, link, mention, issue reference or bare URL outside
    // code spans; the organization's name is one code span, its backticks
    // inside.
    let markdown = report("markdown");
    let findings = markdown.split("## Findings").nth(1).unwrap();
    for raw in ["<img", "[x](", "@acme", "#12", "#1 ", "https://", "www.evil"] {
        assert!(
            !findings.contains(raw),
            "the Markdown report holds {raw:?} raw:\n{markdown}"
        );
    }
    assert!(markdown.contains("## Organization ```org`` <img src=x onerror=alert(1)> @acme/owners #12```\n"));
    assert!(markdown.contains("\\[x\\](https:&#8203;//evil.example); each unit needs its own account\n"));
    // Mermaid: every label on its own line, with no directive or comment.
    let mermaid = run(&["graph", "--format", "mermaid"]);
    assert!(!mermaid.contains("%%") && !mermaid.contains('<'), "{mermaid}");
    assert!(
        mermaid.contains("    p0[\"pool-a #37;#37; comment click a call alert()\"]\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.lines().all(|l| !l.trim_start().starts_with("click")),
        "{mermaid}"
    );
    // DOT: quotes escaped, so the label does not end early.
    let dot = run(&["graph", "--format", "dot"]);
    assert!(
        dot.contains("    p1 [label=\"pool-b\\\"]; x [label=\\\"\u{fffd}\"];\n"),
        "{dot}"
    );
    // HTML: no element from a name.
    let html = report("html");
    assert!(
        !html.contains("<img") && html.contains("&lt;img src=x"),
        "the HTML report"
    );
    // JSON and SARIF: the hidden characters as `\u` escapes, the data exact.
    for format in ["json", "sarif"] {
        let out = run(&["check", "--format", format]);
        assert!(out.contains("prod\\u202e\\u0085\\u001b[2J"), "{format}: {out}");
    }
    // The step summary is Markdown too.
    let summary_dir = tempfile::tempdir().unwrap();
    let summary = summary_dir.path().join("summary.md");
    let out = common::planelint_env(
        &dir,
        &["check", "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(out.status.code(), Some(1));
    let summary = std::fs::read_to_string(summary).unwrap();
    for raw in ["[x](", "https://", "www.evil"] {
        assert!(!summary.contains(raw), "the step summary holds {raw:?} raw:\n{summary}");
    }
    assert!(!summary.contains(HIDDEN));
}

#[test]
fn the_step_summary_stays_under_githubs_limit_and_counts_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let clusters: String = (0..9_000)
        .map(|n| {
            format!(
                "---\n{CLUSTER}metadata: {{name: cluster-{n}}}\nspec: {{pool: missing-{n}, metadataBucket: gs://b}}\n"
            )
        })
        .collect();
    write(dir.path(), "clusters.yaml", clusters);
    let summary = dir.path().join("summary.md");
    // An earlier writer of the same step: its bytes count toward the limit.
    std::fs::write(&summary, "x".repeat(1_000)).unwrap();
    let out = common::planelint_env(
        dir.path(),
        &["check", "--format", "github", "clusters.yaml"],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(written.len() <= 1 << 20, "{} bytes", written.len());
    let rows = written.lines().filter(|l| l.starts_with("| warning |")).count();
    assert!(rows > 5_000, "{rows} rows");
    assert_eq!(
        written.lines().rev().find(|l| !l.is_empty()).unwrap(),
        format!(
            "{} findings not shown here: a step summary holds at most 1 MiB. The annotations, a SARIF report or `planelint check` list them all.",
            9_000 - rows
        )
    );
}

#[test]
fn a_file_name_with_control_characters_is_shown_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x\n::error::y.yaml", "a: [\n");
    let out = planelint_within(dir.path(), &["check"], Duration::from_secs(20));
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .starts_with("x\\u{a}::error::y.yaml:1:4: error[yaml-syntax]: invalid YAML:"),
        "{}",
        out.stdout
    );
    let out = planelint_within(dir.path(), &["check", "--format", "json"], Duration::from_secs(20));
    assert_eq!(json(&out)["diagnostics"][0]["file"], "x\\u{a}::error::y.yaml");
    let out = planelint_within(dir.path(), &["check", "--format", "github"], Duration::from_secs(20));
    assert!(
        out.stdout.starts_with("::error file=x\\u{a}%3A%3Aerror%3A%3Ay.yaml,"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_human_summary_counts_what_was_skipped_or_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("x.yaml"));
    write(dir.path(), "deep.yaml", format!("{}x\n", "- ".repeat(200)));
    write(dir.path(), "y.yaml", "a: 1\n");
    let out = planelint_within(dir.path(), &["check"], Duration::from_secs(20));
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout.lines().last().unwrap(),
        "2 errors, 0 warnings, 0 notes in 2 files (1 skipped, 1 document not read, 1 input over a limit)"
    );
}

#[test]
fn unreadable_files_and_directories_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    if !permissions_bind(dir.path()) {
        eprintln!("SKIPPED: permissions do not bind this user (root)");
        return;
    }
    write(dir.path(), "a-file.yaml", "a: 1\n");
    write(dir.path(), "b-dir/c.yaml", "a: 1\n");
    write(dir.path(), "ok.yaml", "a: 1\n");
    std::fs::set_permissions(dir.path().join("a-file.yaml"), std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(dir.path().join("b-dir"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = planelint_within(dir.path(), &["check", "--format", "json"], Duration::from_secs(20));
    std::fs::set_permissions(dir.path().join("b-dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.code, 1);
    assert_eq!(
        findings(&out),
        ["a-file.yaml:1:1 file-unreadable", "b-dir:1:1 file-unreadable"]
    );
    assert_eq!(counters(&out), [2, 0, 0]);
}

#[test]
fn a_path_that_does_not_exist_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = planelint_within(dir.path(), &["check", "nowhere"], Duration::from_secs(20));
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert_eq!(out.stderr, "planelint: nowhere: no such file or directory\n");
}

#[test]
fn a_panic_is_exit_3_and_names_the_file_being_processed() {
    // Debug builds panic on the file this variable names (fault injection).
    if !cfg!(debug_assertions) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", "a: 1\n");
    write(dir.path(), "b.yaml", "b: 1\n");
    let out = Command::new(env!("CARGO_BIN_EXE_planelint"))
        .arg("check")
        .current_dir(dir.path())
        .env("PLANELINT_TEST_PANIC_ON", "b.yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("planelint: internal error (a bug) while processing b.yaml: panicked at src/load.rs:"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("a panic injected by a test; please report it\n"),
        "{stderr}"
    );
}

#[test]
fn a_config_policy_or_baseline_is_read_only_from_inside_and_only_when_regular() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "TOP-SECRET-TOKEN";
    write(dir.path(), "outside/secret.yaml", format!("{secret}: [\n"));
    let outside = "a symbolic link to a file outside";
    let run = |args: &[&str]| planelint_within(dir.path(), args, Duration::from_secs(20));
    let refused = |out: &Output, what: &str| {
        assert_eq!(out.code, 2, "{what}: {}", out.stderr);
        assert!(
            !out.stderr.contains(secret) && !out.stdout.contains(secret),
            "{what}: {}",
            out.stderr
        );
    };

    write(dir.path(), "a/c.yaml", format!("{CLUSTER}metadata: {{name: c1}}\n"));
    symlink("../outside/secret.yaml", dir.path().join("a/.planelint.yaml")).unwrap();
    let out = run(&["check", "a"]);
    refused(&out, "config");
    assert!(out.stderr.contains(outside), "{}", out.stderr);

    write(dir.path(), "b/c.yaml", format!("{CLUSTER}metadata: {{name: c1}}\n"));
    std::fs::create_dir_all(dir.path().join("b-policies")).unwrap();
    symlink("../outside/secret.yaml", dir.path().join("b-policies/p.yaml")).unwrap();
    let out = run(&["check", "b", "--policy", "b-policies"]);
    refused(&out, "policy");
    assert!(out.stderr.contains(outside), "{}", out.stderr);

    symlink("../outside/secret.yaml", dir.path().join("b/baseline.json")).unwrap();
    let out = planelint_within(
        &dir.path().join("b"),
        &["check", "--baseline", "baseline.json"],
        Duration::from_secs(20),
    );
    refused(&out, "baseline");
    assert!(out.stderr.contains(outside), "{}", out.stderr);

    // A FIFO is refused without waiting for a writer.
    mkfifo(&dir.path().join("fifo.json"));
    let out = run(&["check", "b", "--baseline", "fifo.json"]);
    refused(&out, "FIFO baseline");
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    write(dir.path(), "c/c.yaml", format!("{CLUSTER}metadata: {{name: c1}}\n"));
    mkfifo(&dir.path().join("c/.planelint.yaml"));
    let out = run(&["check", "c", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(findings(&out), ["c/.planelint.yaml:1:1 file-unreadable"]);
}

#[test]
fn values_whose_references_are_cut_short_are_still_read() {
    for case in ["values-references-fan-out", "values-references-cycle"] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("fixtures/bad").join(case), dir.path());
        let out = planelint_within(
            dir.path(),
            &["report", "--format", "json", "."],
            Duration::from_secs(20),
        );
        let model = json(&out);
        let clusters = &model["models"][0]["collections"]["clusters"];
        assert_eq!(clusters[0]["key"], "acme-east-1", "{case}: {}", out.stdout);
        // The bucket was not read: a value cut short is no value.
        assert!(clusters[0]["fields"].get("metadataBucket").is_none(), "{case}");
    }
}
