//! Helpers shared by the integration tests: running the binary, making
//! throwaway repos, and finding the real clients the tests drive.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod generator;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `planelint ARGS` in `cwd` with a plain (non-terminal) stdout.
pub fn planelint_in(cwd: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_planelint"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

pub fn planelint(args: &[&str]) -> Output {
    planelint_in(&root(), args)
}

/// Writes `files` (relative path, contents) below a new temporary directory.
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", output.stdout))
}

/// `file:line:col rule` of every diagnostic of a JSON report that is not
/// suppressed.
pub fn findings(output: &Output) -> Vec<String> {
    finding_lines(&json(output))
}

/// `file:line:col rule` of every shown (not suppressed) diagnostic of a JSON report.
pub fn finding_lines(report: &serde_json::Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["suppressed"] == false)
        .map(|d| {
            format!(
                "{}:{}:{} {}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"],
                d["rule"].as_str().unwrap()
            )
        })
        .collect()
}

pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// `planelint ARGS` in `cwd`, with none of the runner's variables inherited.
pub fn planelint_env(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_planelint"));
    command.args(args).current_dir(cwd);
    for name in ["GITHUB_WORKSPACE", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "NO_COLOR"] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn write(dir: &Path, relative: &str, text: &str) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Whether `python3` can import `module`; when not, says why the test skips.
pub fn python_has(module: &str, test: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip_without(module, test, &format!("pip install {module}; .ci/run installs it"));
    }
    found
}

/// Says on standard error that `test` is skipped because `tool` is missing.
/// Under CI (`CI` set) a missing tool fails the test instead, unless
/// `.ci/run` said it could not install it (`PLANELINT_CI_MISSING`).
pub fn skip_without(tool: &str, test: &str, hint: &str) {
    if std::env::var_os("CI").is_some() {
        let missing = std::env::var("PLANELINT_CI_MISSING").unwrap_or_default();
        assert!(
            missing.split_whitespace().any(|t| t == tool),
            "{test}: {tool} is missing under CI, and .ci/run did not say it could not install it"
        );
    }
    eprintln!("SKIPPED {test}: {tool} not found ({hint})");
}

/// Says on standard error that `test` is skipped because a third-party file
/// it needs is not beside the checkout (a clone without `../shared`).
pub fn skip_absent(path: &Path, test: &str) {
    eprintln!("SKIPPED {test}: {} is not there", path.display());
}

/// A project-isolation data plane whose units staging/p1 and staging/p2 use
/// the accounts `first` and `second` (YAML, so they may hold escapes).
pub fn plane(first: &str, second: &str) -> String {
    format!(
        "apiVersion: planelint/v1
kind: DataPlane
metadata:
  name: acme
spec:
  isolation: project
  domains:
    - name: staging
  projects: [p1, p2]
  placements:
    - {{domain: staging, project: p1, provider: gcp, account: {first}}}
    - {{domain: staging, project: p2, provider: gcp, account: {second}}}
"
    )
}

/// staging/p2 reuses the account of staging/p1.
pub fn shared_account(account: &str) -> String {
    plane(account, account)
}

/// An account per unit.
pub fn clean_plane() -> String {
    plane("acct-1", "acct-2")
}

/// Runs `planelint ARGS` in `cwd` like [`planelint_in`], but kills it and
/// fails after `limit`: a hang is a bug, and must not hang the test suite.
pub fn planelint_within(cwd: &Path, args: &[&str], limit: std::time::Duration) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_planelint"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            String::from_utf8(bytes).unwrap()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("planelint {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Generates a repo into `dir` with the project's generator; `args` are
/// its command-line knobs (`--projects 30 --seed 7`).
pub fn generate(dir: &Path, args: &[&str]) {
    let spec = generator::Spec::from_args(args).unwrap();
    generator::generate(dir, &spec).unwrap();
}

/// How many rules the built-in pack has: one per file of `policies/`.
pub fn builtin_rule_count() -> usize {
    std::fs::read_dir(root().join("policies")).unwrap().count()
}

/// How many policies the built-in pack holds: its `kind: Policy` documents
/// (a rule's file may hold more than one).
pub fn builtin_policy_count() -> usize {
    std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .map(|text| text.lines().filter(|line| *line == "kind: Policy").count())
        .sum()
}
