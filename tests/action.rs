#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `action.yml` run as the GitHub Actions runner runs a composite action:
//! each step's `run` through `bash --noprofile --norc -eo pipefail`, with
//! `${{ }}` expressions substituted, its `env`, and `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, `GITHUB_WORKSPACE` and `RUNNER_TEMP` pointing at
//! temporary files and folders; then what the steps wrote is checked.

mod common;

use common::{MANIFEST_DIR, clean_plane, shared_account, write};
use planelint::source::SourceId;
use planelint::yaml::{self, Node};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Job {
    workspace: PathBuf,
    temp: PathBuf,
    summary: PathBuf,
}

struct Finished {
    /// The step that failed, if one did (later steps do not run).
    failed: Option<(String, i32)>,
    /// The action's outputs, as its `outputs:` map them.
    outputs: BTreeMap<String, String>,
    /// Standard output of every step, in order.
    log: String,
}

fn text(node: &Node) -> String {
    match node.scalar().unwrap() {
        yaml::Scalar::String(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// Substitutes the expressions the action uses; any other fails the test,
/// so the action stays within what this runner stand-in understands.
fn substitute(value: &str, context: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").unwrap() + start;
        let expression = rest[start + 3..end].trim();
        out.push_str(
            context
                .get(expression)
                .unwrap_or_else(|| panic!("unknown expression {expression}")),
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `name=value` lines and `name<<DELIMITER` blocks of a `GITHUB_OUTPUT` file.
fn read_outputs(file: &Path) -> Vec<(String, String)> {
    let content = std::fs::read_to_string(file).unwrap_or_default();
    let mut lines = content.lines();
    let mut outputs = Vec::new();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.push((name.to_string(), value.to_string()));
        }
    }
    outputs
}

fn run_action(job: &Job, inputs: &[(&str, &str)]) -> Finished {
    let action_path = Path::new(MANIFEST_DIR);
    let text_of_action = std::fs::read_to_string(action_path.join("action.yml")).unwrap();
    let loaded = yaml::load(&text_of_action, SourceId(0), yaml::Limits::default());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let action = loaded.documents[0].root.as_ref().unwrap();
    assert_eq!(text(action.get("runs").unwrap().get("using").unwrap()), "composite");

    let mut context = BTreeMap::new();
    context.insert("github.action_path".to_string(), action_path.display().to_string());
    for entry in action.get("inputs").unwrap().as_mapping().unwrap() {
        let name = text(&entry.key);
        let given = inputs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        let default = entry.value.get("default").map(text).unwrap_or_default();
        context.insert(format!("inputs.{name}"), given.unwrap_or(default));
    }
    let mut finished = Finished {
        failed: None,
        outputs: BTreeMap::new(),
        log: String::new(),
    };
    for (index, step) in action
        .get("runs")
        .unwrap()
        .get("steps")
        .unwrap()
        .as_sequence()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(text(step.get("shell").unwrap()), "bash");
        let id = step.get("id").map_or(format!("step{index}"), text);
        let script = job.temp.join(format!("{id}.sh"));
        std::fs::write(&script, substitute(&text(step.get("run").unwrap()), &context)).unwrap();
        let output_file = job.temp.join(format!("{id}.output"));
        std::fs::write(&output_file, "").unwrap();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&job.workspace)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &job.workspace)
            .env("GITHUB_ACTION_PATH", action_path)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &job.summary)
            .env("RUNNER_TEMP", &job.temp)
            // The build's intermediate files, kept between test runs.
            .env(
                "CARGO_TARGET_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-install-target"),
            );
        if let Some(env) = step.get("env") {
            for entry in env.as_mapping().unwrap() {
                command.env(text(&entry.key), substitute(&text(&entry.value), &context));
            }
        }
        let output = command.output().unwrap();
        println!(
            "step {id}: {:?}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        finished.log.push_str(&String::from_utf8_lossy(&output.stdout));
        for (name, value) in read_outputs(&output_file) {
            context.insert(format!("steps.{id}.outputs.{name}"), value);
        }
        if !output.status.success() {
            finished.failed = Some((id, output.status.code().unwrap_or(-1)));
            break;
        }
    }
    // The runner evaluates the action's outputs even after a failed step.
    for entry in action.get("outputs").unwrap().as_mapping().unwrap() {
        let value = text(entry.value.get("value").unwrap());
        let expression = value.trim_start_matches("${{").trim_end_matches("}}").trim();
        let resolved = context.get(expression).cloned().unwrap_or_default();
        finished.outputs.insert(text(&entry.key), resolved);
    }
    finished
}

fn job(plane: &str) -> (tempfile::TempDir, Job) {
    let dir = tempfile::tempdir().unwrap();
    let job = Job {
        workspace: dir.path().join("workspace"),
        temp: dir.path().join("runner-temp"),
        summary: dir.path().join("step-summary.md"),
    };
    // A checkout: SARIF URIs start from its top level.
    write(&job.workspace, ".git/HEAD", "ref: refs/heads/main\n");
    write(&job.workspace, "config/plane.yaml", plane);
    std::fs::create_dir_all(&job.temp).unwrap();
    std::fs::write(&job.summary, "").unwrap();
    (dir, job)
}

#[test]
fn the_action_annotates_summarizes_writes_sarif_and_counts_findings() {
    if Command::new("cargo").arg("--version").output().is_err() {
        common::skip_without("cargo", "the action test", "install Rust");
        return;
    }
    let (_dir, failing) = job(&shared_account("acct-1"));
    let finished = run_action(&failing, &[("paths", "config"), ("sarif-file", "reports.sarif")]);
    assert_eq!(finished.failed, Some(("lint".to_string(), 1)));
    assert_eq!(
        finished.log,
        "::error file=config/plane.yaml,line=12,col=62,endLine=12,endColumn=68,title=placement-account-shared::\
         account acct-1 of staging/p2 is already used by staging/p1; each unit needs its own account\n"
    );
    assert_eq!(finished.outputs["findings"], "1");
    assert_eq!(finished.outputs["sarif-file"], "reports.sarif");
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(failing.workspace.join("reports.sarif")).unwrap()).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "placement-account-shared");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/plane.yaml"
    );
    let summary = std::fs::read_to_string(&failing.summary).unwrap();
    assert!(
        summary.starts_with("### planelint: 1 error, 0 warnings, 0 notes in 1 file\n"),
        "{summary}"
    );
    assert!(summary.contains("| error | placement-account-shared | config/plane.yaml:12:62 | account acct-1"));

    // A clean repo passes with no annotation; a warning fails only at
    // fail-level warning.
    let (_dir, clean) = job(&clean_plane());
    write(
        &clean.workspace,
        "config/cluster.yaml",
        "apiVersion: planelint/v1\nkind: Cluster\nmetadata: {name: c1}\nspec:\n  pool: nowhere\n",
    );
    let passed = run_action(&clean, &[("paths", "config/plane.yaml\nconfig/cluster.yaml")]);
    assert_eq!(passed.failed, None);
    assert_eq!(passed.outputs["findings"], "1");
    assert!(
        passed
            .log
            .starts_with("::warning file=config/cluster.yaml,line=5,col=9,")
    );
    assert!(clean.workspace.join("planelint.sarif").is_file());
    let strict = run_action(&clean, &[("paths", "config"), ("fail-level", "warning")]);
    assert_eq!(strict.failed, Some(("lint".to_string(), 1)));
}
