//! Repos made by the project's generator (`tests/common/generator.rs`):
//! planelint reports, per rule, exactly the counts of the generator's `expected.json`, and nothing
//! else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{generate, json, planelint_in};
use std::collections::BTreeMap;

#[test]
fn counts_per_rule_match_the_generator() {
    let cases: &[&[&str]] = &[
        &["--projects", "30", "--clusters", "40", "--pools", "5", "--seed", "1"],
        &[
            "--projects",
            "100",
            "--clusters",
            "150",
            "--pools",
            "12",
            "--seed",
            "7",
            "--violations",
            "9",
        ],
        &[
            "--projects",
            "5",
            "--clusters",
            "20",
            "--pools",
            "3",
            "--seed",
            "3",
            "--isolation",
            "domain",
        ],
        &[
            "--projects",
            "300",
            "--clusters",
            "500",
            "--pools",
            "20",
            "--seed",
            "42",
        ],
    ];
    for args in cases {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), args);
        let expected: BTreeMap<String, u64> =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap()).unwrap();
        let expected: BTreeMap<String, u64> = expected.into_iter().filter(|(_, n)| *n > 0).collect();
        let out = planelint_in(dir.path(), &["check", "--format", "json"]);
        let mut got: BTreeMap<String, u64> = BTreeMap::new();
        for d in json(&out)["diagnostics"].as_array().unwrap() {
            *got.entry(d["rule"].as_str().unwrap().to_string()).or_default() += 1;
        }
        assert_eq!(got, expected, "{args:?}");
        assert_eq!(out.code, 1);
    }
}

#[test]
fn output_is_byte_identical_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    // Enough entities for several evaluation chunks per policy.
    generate(
        dir.path(),
        &[
            "--projects",
            "1000",
            "--clusters",
            "2500",
            "--pools",
            "30",
            "--seed",
            "5",
        ],
    );
    let one = planelint_in(dir.path(), &["check", "--format", "json", "--threads", "1"]);
    let four = planelint_in(dir.path(), &["check", "--format", "json", "--threads", "4"]);
    assert_eq!(one.code, 1);
    assert_eq!(one.stdout, four.stdout);
    let human_one = planelint_in(dir.path(), &["check", "--threads", "1"]);
    let human_four = planelint_in(dir.path(), &["check", "--threads", "4"]);
    assert_eq!(human_one.stdout, human_four.stdout);
}
