//! The real, public configuration files in `../shared/real-configs/`: no
//! crash, no parse, schema or policy error on any of them, and the known
//! problems found at their exact positions, and what is not read counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{findings, planelint_in, root};

#[test]
fn real_configs_lint_without_errors_and_find_the_known_problems() {
    let shared = root().join("../shared");
    if !shared.join("real-configs").is_dir() {
        common::skip_absent(&shared.join("real-configs"), "the real configs test");
        return;
    }
    let out = planelint_in(&shared, &["check", "real-configs", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        findings(&out),
        [
            // testcluster has no `enabled: true`: flyteadmin skips it.
            "real-configs/flyte/admin_clusters_config.yaml:3:5 routing-cluster-disabled",
            // testcluster3 reuses testcluster2's endpoint and credentials.
            "real-configs/flyte/admin_clusters_config2.yaml:28:15 cluster-endpoint-duplicate",
            "real-configs/flyte/admin_clusters_config2_default_label.yaml:29:15 cluster-endpoint-duplicate",
            // Label `foo` is defined by no labelClusterMap in the repo.
            "real-configs/flyte/flytectl_valid_project_domain_execution_cluster_label.yaml:3:8 routing-label-unknown",
            "real-configs/flyte/flytectl_valid_workflow_execution_cluster_label.yaml:4:8 routing-label-unknown",
        ]
    );
    // What is not read is said, with what it is: the chart overlays that
    // name no cluster, and the Flyte values whose clusters and per-domain
    // settings are empty or still templated.
    let report = common::json(&out);
    assert_eq!(
        (
            &report["summary"]["documents_read"],
            &report["summary"]["documents_unread"]
        ),
        (&serde_json::json!(15), &serde_json::json!(6))
    );
    let guesses: Vec<&str> = report["unread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["guess"].as_str().unwrap())
        .collect();
    assert!(
        guesses
            .iter()
            .all(|g| g.starts_with("Union data-plane values that name no cluster")
                || g.starts_with("Flyte chart values naming no cluster")),
        "{guesses:?}"
    );
}
