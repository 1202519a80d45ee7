//! The default limits hold the largest real organizations: a DataPlane of
//! 100,000 projects, a placement table written with merge keys, a file of
//! 20,000 clusters. Each run must find exactly the violations planted, with
//! no `input-limit` finding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{findings, planelint_in, repo};

/// Project isolation over two domains: every unit its own account but the
/// two planted pairs. Returns the file and the findings expected.
fn wide_data_plane(projects: usize) -> (String, Vec<String>) {
    let mut text = String::from(
        "apiVersion: planelint/v1\nkind: DataPlane\nmetadata:\n  name: acme\nspec:\n  isolation: project\n  domains: [{name: dev}, {name: stg}]\n  projects:\n",
    );
    for p in 0..projects {
        text.push_str(&format!("    - p{p}\n"));
    }
    text.push_str("  placements:\n");
    let mut line = text.lines().count();
    let mut expected = Vec::new();
    let last = projects - 1;
    for domain in ["dev", "stg"] {
        for p in 0..projects {
            line += 1;
            // dev/p1 reuses dev/p0's account; stg/p{last} reuses dev/p{last}'s.
            let account = match (domain, p) {
                ("dev", 1) => "acct-dev-0".to_string(),
                ("stg", p) if p == last => format!("acct-dev-{last}"),
                _ => format!("acct-{domain}-{p}"),
            };
            let row = format!("    - {{domain: {domain}, project: p{p}, provider: gcp, account: {account}}}\n");
            if account != format!("acct-{domain}-{p}") {
                let column = row.find("acct-").unwrap() + 1;
                expected.push(format!("d.yaml:{line}:{column} placement-account-shared"));
            }
            text.push_str(&row);
        }
    }
    (text, expected)
}

#[test]
fn a_data_plane_of_100000_projects_is_checked_whole() {
    let (text, expected) = wide_data_plane(100_000);
    let dir = repo(&[("d.yaml", &text)]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(findings(&out), expected);
}

#[test]
fn a_placement_table_of_merge_keys_is_read_as_go_yaml_reads_it() {
    let projects = 20_000;
    let mut text = String::from(
        "apiVersion: planelint/v1\nkind: DataPlane\nmetadata:\n  name: acme\nspec:\n  isolation: project\n  domains: [{name: dev}, {name: stg}]\n  projects:\n",
    );
    for p in 0..projects {
        text.push_str(&format!("    - p{p}\n"));
    }
    text.push_str("  placements:\n    - &row {domain: dev, project: p0, provider: gcp, account: acct-dev-0}\n");
    for domain in ["dev", "stg"] {
        for p in 0..projects {
            if (domain, p) == ("dev", 0) {
                continue;
            }
            text.push_str(&format!(
                "    - {{<<: *row, domain: {domain}, project: p{p}, account: acct-{domain}-{p}}}\n"
            ));
        }
    }
    // One row keeps the merged account: it shares dev/p0's.
    let shared = "    - {<<: *row, domain: stg, project: p7, account: acct-stg-7}\n";
    let line = text.lines().position(|l| format!("{l}\n") == shared).unwrap() + 1;
    let text = text.replace(shared, "    - {<<: *row, domain: stg, project: p7}\n");
    let dir = repo(&[("d.yaml", &text)]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // The account comes from the merged row: the finding is on its alias.
    assert_eq!(findings(&out), [format!("d.yaml:{line}:12 placement-account-shared")]);
}

#[test]
fn a_file_of_20000_clusters_is_checked_whole() {
    let mut text = String::new();
    let mut expected = Vec::new();
    for c in 0..20_000 {
        // The first and the last cluster use another pool's bucket.
        let bucket = if c == 0 || c == 19_999 {
            "s3://other"
        } else {
            "s3://prod-meta"
        };
        text.push_str(&format!(
            "---\napiVersion: planelint/v1\nkind: Cluster\nmetadata:\n  name: c{c}\nspec:\n  pool: prod\n  metadataBucket: {bucket}\n"
        ));
        if bucket == "s3://other" {
            expected.push(format!(
                "clusters.yaml:{}:19 pool-metadata-bucket-mismatch",
                text.lines().count()
            ));
        }
    }
    let pool = "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata:\n  name: prod\nspec:\n  metadataBucket: s3://prod-meta\n";
    let dir = repo(&[("clusters.yaml", &text), ("pool.yaml", pool)]);
    let out = planelint_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(findings(&out), expected);
}
