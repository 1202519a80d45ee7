//! The native evaluator gives exactly cel's results: every fixture repo, a
//! generated repo (also with every placement on one account), and policies
//! written to reach each operator, function and error path give the same
//! bytes and exit code with `--evaluator cel` as without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{generate, planelint_in, repo, root};
use std::path::{Path, PathBuf};

/// Checks that both evaluators print the same report in `cwd`; returns
/// the exit code.
fn same_either_way(cwd: &Path, args: &[&str]) -> i32 {
    let mut native_args = vec!["check", "--format", "json"];
    native_args.extend_from_slice(args);
    let mut cel_args = native_args.clone();
    cel_args.extend_from_slice(&["--evaluator", "cel"]);
    let native = planelint_in(cwd, &native_args);
    let cel = planelint_in(cwd, &cel_args);
    assert_eq!(native.stdout, cel.stdout, "{} {args:?}", cwd.display());
    assert_eq!(native.code, cel.code, "{} {args:?}", cwd.display());
    native.code
}

/// The directories of `dir` and below that hold YAML files, and the
/// fixtures that bring their own policies (`policies/` beside `repo/`).
fn fixture_repos(dir: &Path, plain: &mut Vec<PathBuf>, with_policies: &mut Vec<PathBuf>) {
    if dir.join("policies").is_dir() && dir.join("repo").is_dir() {
        with_policies.push(dir.to_path_buf());
        return;
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    if entries
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
    {
        plain.push(dir.to_path_buf());
    }
    for entry in entries.iter().filter(|p| p.is_dir()) {
        fixture_repos(entry, plain, with_policies);
    }
}

#[test]
fn every_fixture_gives_the_same_report() {
    let (mut plain, mut with_policies) = (Vec::new(), Vec::new());
    fixture_repos(&root().join("fixtures"), &mut plain, &mut with_policies);
    assert!(plain.len() > 60, "found {} fixture repos", plain.len());
    assert!(
        with_policies.len() >= 3,
        "found {} fixtures with policies",
        with_policies.len()
    );
    for dir in &plain {
        same_either_way(dir, &["."]);
    }
    for dir in &with_policies {
        same_either_way(dir, &["repo", "--policy", "policies", "--no-builtin"]);
        same_either_way(dir, &["repo", "--policy", "policies"]);
    }
}

#[test]
fn generated_repos_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        &[
            "--projects",
            "300",
            "--clusters",
            "500",
            "--pools",
            "20",
            "--seed",
            "11",
        ],
    );
    assert_eq!(same_either_way(dir.path(), &["."]), 1);
    // The built-in policies never need cel's interpreter.
    let timed = planelint_in(dir.path(), &["check", "--format", "json", "--timings"]);
    assert!(
        timed.stderr.contains(" evaluations, 0 by cel's interpreter)"),
        "{}",
        timed.stderr
    );
    // Every placement on one account: the groups are as large as they get.
    let path = dir.path().join("dataplane.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let shared: String = text
        .lines()
        .map(|line| match line.find("account: ") {
            Some(at) if line.trim_start().starts_with("- {") => format!("{}account: shared}}\n", &line[..at]),
            _ => format!("{line}\n"),
        })
        .collect();
    assert_ne!(shared, text);
    std::fs::write(&path, shared).unwrap();
    assert_eq!(same_either_way(dir.path(), &["."]), 1);
}

/// One policy per expression, each failing on every cluster with a message
/// that shows the expression's value, or the error of computing it.
fn policies(expressions: &[&str]) -> String {
    let mut text = String::new();
    for (n, expression) in expressions.iter().enumerate() {
        text.push_str(&format!(
            "apiVersion: planelint/v1
kind: Policy
metadata:
  name: probe-{n}
spec:
  severity: error
  summary: A probe of the evaluators.
  forEach: clusters
  variables:
    - name: pools
      expression: model.pools.groupBy('name')
    - name: mine
      expression: model.clusters.groupBy('pool')[object.pool]
  validations:
    - expression: 'false'
      messageExpression: \"'{n}: ' + string({expression})\"
---
"
        ));
    }
    text
}

const CLUSTERS: &str = "\
apiVersion: planelint/v1
kind: ClusterPool
metadata: {name: blue}
spec: {metadataBucket: s3://blue-meta}
---
apiVersion: planelint/v1
kind: Cluster
metadata: {name: c1}
spec: {pool: blue, account: '123456789012', provider: aws, metadataBucket: s3://blue-meta, units: [prod/a, dev/b]}
---
apiVersion: planelint/v1
kind: Cluster
metadata: {name: c2}
spec: {pool: green, account: my-gcp, provider: gcp, metadataBucket: gs://g}
";

#[test]
fn every_operator_and_error_path_gives_the_same_report() {
    // Each is turned into a string (or fails to be: an error cel reports).
    let expressions = [
        // Operators and literals.
        "1 + 2 == 3",
        "'a' + object.name",
        "[1, 2] + [3]",
        "object.name < 'c2'",
        "size(object.name) >= 2 && size([1]) > 0 || false",
        "1.5 + 2.0 > 3.0",
        "1u + 2u",
        "null == null",
        "object.name == 1",
        "1 == 1.0",
        "object == object",
        "model.clusters == model.clusters",
        "variables.mine == variables.mine",
        "[1] == [1]",
        "{} == {}",
        "object.name in ['c1', 'c3']",
        "'pool' in object",
        "object.pool in variables.pools",
        "1 in variables.pools",
        "object in model.clusters",
        "'c1' in model.clusters",
        "'x' in {}",
        // An object's string field compared in place.
        "object.name == 'c1'",
        "'c1' == object.name",
        "object.name != 'c1'",
        "object.pool == object.name",
        "object.name in [1, 'c1']",
        "object.pool in model.pools.groupBy('name')",
        "object.name in object",
        "model.clusters[object.name].name",
        "object[object.name]",
        "has(object.units) ? object.units[0] : 'none'",
        "!has(object.region)",
        "9223372036854775807 + 1",
        "1 < 'a'",
        "-1",
        // Field values.
        "object.units.size()",
        "has(object.units) && object.units.exists(u, u.startsWith('prod'))",
        "has(object.units) && object.units.all(u, u.contains('/'))",
        "has(object.units) && object.units.exists_one(u, u.endsWith('b'))",
        "has(object.units) ? object.units.filter(u, u != 'dev/b').join(',') : ''",
        "has(object.units) ? object.units.map(u, u.split('/')[1]).join() : ''",
        "object.units",
        "object.missing",
        "object.units[5]",
        "object.name.split('')",
        "object.name.matches('c.*')",
        "object.name.matches('^c[0-9]$') && !matches(object.name, '2$')",
        "object.name.matches('(c')",
        "object.name.matches(object.pool)",
        // Views.
        "size(variables.mine)",
        "variables.mine.before(object).map(c, c.name).join(' ')",
        "size(model.clusters.having('units'))",
        "variables.pools.map(p, p).join(',')",
        "model.clusters.groupBy('pool').exists(p, p == 'green')",
        "model.clusters[0].name",
        "model.clusters['c2'].pool",
        "model.clusters['nope']",
        "model.clusters[-1]",
        "model.pools.blue",
        "variables.pools.blue[0].name",
        "size(object)",
        "object.map(f, f).join(',')",
        "object.filter(f, f.startsWith('p')).size()",
        "size(variables.pools['blue'])",
        "model.nothing",
        "variables",
        "objekt",
        "string(size(model.clusters))",
        "object.name.size() == 2 ? 'two' : 'other'",
        "object.units.exists(u, u == 1)",
        "1.5",
        "0.1 + 0.2",
        "1e300 + 1e300",
    ];
    let dir = repo(&[
        ("policies/probe.yaml", &policies(&expressions)),
        ("repo/clusters.yaml", CLUSTERS),
    ]);
    let args = ["repo", "--policy", "policies", "--no-builtin"];
    assert_eq!(same_either_way(dir.path(), &args), 1);
    // 74 policies on 2 clusters. cel's interpreter did the 32 that are
    // errors (policy-error findings), and `1 == 1.0`, `[1] == [1]`,
    // `{} == {}` and `matches` with a pattern that is not a literal on both
    // clusters: native evaluation leaves numbers of two types, list and map
    // equality, and patterns it cannot compile with the policy to it.
    let timed = planelint_in(dir.path(), &[&["check", "--timings"], &args[..]].concat());
    assert!(
        timed.stderr.contains("(148 evaluations, 40 by cel's interpreter)"),
        "{}",
        timed.stderr
    );
}

#[test]
fn groupings_made_apart_compare_by_value_and_maps_iterate_in_key_order() {
    let expressions = [
        "model.clusters.groupBy('pool') == model.clusters.having('pool').groupBy('pool')",
        "model.clusters.groupBy('pool') == model.clusters.groupBy('name')",
        "{'b': 1, 'a': 2, 'c': 3}.map(k, k).join(',')",
    ];
    let dir = repo(&[
        ("policies/probe.yaml", &policies(&expressions)),
        ("repo/clusters.yaml", CLUSTERS),
    ]);
    let args = ["repo", "--policy", "policies", "--no-builtin"];
    assert_eq!(same_either_way(dir.path(), &args), 1);
    let out = planelint_in(dir.path(), &[&["check", "--format", "json"], &args[..]].concat());
    let mut messages: Vec<String> = common::json(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    messages.sort();
    messages.dedup();
    assert_eq!(messages, ["0: true", "1: false", "2: a,b,c"]);
}

#[test]
fn a_spent_step_budget_gives_the_same_report() {
    let policy = "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: cubic\nspec:\n  summary: Hostile.\n  forEach: clusters\n  validations:\n    - expression: model.clusters.all(a, model.clusters.all(b, model.clusters.all(c, a.name != '')))\n";
    let dir = repo(&[("policies/p.yaml", policy), ("repo/clusters.yaml", CLUSTERS)]);
    for steps in ["3", "5", "100"] {
        let args = [
            "repo",
            "--policy",
            "policies",
            "--no-builtin",
            "--max-eval-steps",
            steps,
        ];
        assert_eq!(same_either_way(dir.path(), &args), if steps == "100" { 0 } else { 1 });
    }
}

#[test]
fn related_locations_are_capped_and_the_rest_counted() {
    let policy = "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: crowd\nspec:\n  summary: Related to all.\n  validations:\n    - expression: 'false'\n      message: every pool\n      related: model.pools\n";
    let pools: String = (1..=13)
        .map(|n| format!("apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {{name: p{n:02}}}\nspec: {{metadataBucket: s3://p{n}}}\n---\n"))
        .collect();
    let dir = repo(&[("policies/p.yaml", policy), ("repo/pools.yaml", &pools)]);
    let args = ["repo", "--policy", "policies", "--no-builtin"];
    assert_eq!(same_either_way(dir.path(), &args), 1);
    let out = planelint_in(dir.path(), &[&["check", "--format", "json"], &args[..]].concat());
    let finding = &common::json(&out)["diagnostics"][0];
    assert_eq!(finding["message"], "every pool (3 more related locations not listed)");
    let related: Vec<&str> = finding["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(related.len(), 10);
    assert_eq!((related[0], related[9]), ("pools[p01]", "pools[p10]"));
}

/// A seeded generator of CEL expressions over [`CLUSTERS`]: operators,
/// functions, macros and views, well and badly typed, nested a few deep.
struct Expressions {
    state: u64,
}

impl Expressions {
    fn new(seed: u64) -> Self {
        Expressions { state: seed.max(1) }
    }

    /// xorshift64*: enough for a test, and the same on every machine.
    fn below(&mut self, n: usize) -> usize {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let value = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33;
        usize::try_from(value).unwrap() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn atom(&mut self, bound: &[&str]) -> String {
        const ATOMS: &[&str] = &[
            "object.name",
            "object.pool",
            "object.units",
            "object.account",
            "object.missing",
            "object",
            "model.clusters",
            "model.pools",
            "model.clusters[0]",
            "model.clusters.groupBy('pool')",
            "model.clusters.having('units').groupBy('pool')",
            "model.clusters.having('units')",
            "variables.pools",
            "variables.mine",
            "'c1'",
            "'blue'",
            "''",
            "'a/b'",
            "1",
            "0",
            "-1",
            "2u",
            "1.5",
            "true",
            "false",
            "null",
            "[1, 2]",
            "['c1', 'c2']",
            "[]",
            "{}",
            "{'b': 1, 'a': 2, 'c': 3}",
            "{1: 'x', 2: 'y'}",
        ];
        if !bound.is_empty() && self.below(3) == 0 {
            return self.pick(bound).to_string();
        }
        self.pick(ATOMS).to_string()
    }

    fn expression(&mut self, depth: usize, bound: &[&str]) -> String {
        if depth == 0 || self.below(4) == 0 {
            return self.atom(bound);
        }
        let sub = |this: &mut Self| this.expression(depth - 1, bound);
        match self.below(14) {
            0..=2 => {
                let operator = self.pick(&["+", "==", "!=", "<", ">=", "in", "&&", "||", "-", "*"]);
                format!("({} {operator} {})", sub(self), sub(self))
            }
            3 => format!("({} ? {} : {})", sub(self), sub(self), sub(self)),
            4 => format!("{}({})", self.pick(&["size", "string", "int", "!"]), sub(self)),
            5 => format!("has(object.{})", self.pick(&["units", "pool", "missing"])),
            6 => {
                let method = self.pick(&["startsWith", "endsWith", "contains", "split", "matches"]);
                format!("{}.{method}({})", sub(self), sub(self))
            }
            7 => format!("{}.join({})", sub(self), self.pick(&["", "','", "1"])),
            8 => format!(
                "{}.{}('{}')",
                sub(self),
                self.pick(&["groupBy", "having"]),
                self.pick(&["pool", "name", "units", "nope"])
            ),
            9 => format!("{}[{}]", sub(self), sub(self)),
            10 => format!("{}.{}", sub(self), self.pick(&["name", "pool", "blue", "units"])),
            11 => format!("{}.before(object)", sub(self)),
            _ => {
                let variable = self.pick(&["x", "y"]);
                let mut inner: Vec<&str> = bound.to_vec();
                inner.push(variable);
                let range = self.expression(depth - 1, bound);
                let body = self.expression(depth - 1, &inner);
                let comprehension = self.pick(&["exists", "all", "exists_one", "map", "filter"]);
                format!("{range}.{comprehension}({variable}, {body})")
            }
        }
    }
}

#[test]
fn random_expressions_give_the_same_report() {
    let mut generator = Expressions::new(0x5eed_cafe);
    let expressions: Vec<String> = (0..2_000).map(|_| generator.expression(4, &[])).collect();
    let expressions: Vec<&str> = expressions.iter().map(String::as_str).collect();
    let dir = repo(&[
        ("policies/probe.yaml", &policies(&expressions)),
        ("repo/clusters.yaml", CLUSTERS),
    ]);
    let args = ["repo", "--policy", "policies", "--no-builtin"];
    let native = planelint_in(dir.path(), &[&["check", "--format", "json"], &args[..]].concat());
    let cel = planelint_in(
        dir.path(),
        &[&["check", "--format", "json", "--evaluator", "cel"], &args[..]].concat(),
    );
    assert_eq!(native.code, cel.code, "{}", native.stderr);
    // The first expression whose reports differ, for a readable failure.
    let messages = |out: &common::Output| -> Vec<String> {
        common::json(out)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap().to_string())
            .collect()
    };
    let (native_messages, cel_messages) = (messages(&native), messages(&cel));
    if let Some((ours, theirs)) = native_messages.iter().zip(&cel_messages).find(|(a, b)| a != b) {
        panic!("native: {ours}\ncel:    {theirs}");
    }
    assert_eq!(native.stdout, cel.stdout);
    // Some expressions evaluate, natively, and some fail: both paths ran.
    let timed = planelint_in(dir.path(), &[&["check", "--timings"], &args[..]].concat());
    let counts = timed
        .stderr
        .lines()
        .find(|l| l.contains("evaluations,"))
        .unwrap_or_default()
        .to_string();
    assert!(counts.contains("(4000 evaluations, "), "{}", timed.stderr);
    let failures = native_messages
        .iter()
        .filter(|m| m.contains("could not be evaluated"))
        .count();
    assert!(
        (400..3_600).contains(&failures),
        "{failures} of 4000 evaluations failed"
    );
}
