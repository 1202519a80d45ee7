//! Helpers shared by the integration tests: running the binary, making
//! throwaway repos, and finding the real clients the tests drive.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// `planelint ARGS` in `cwd`, with none of the runner's variables inherited.
pub fn planelint(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
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

pub fn stdout(output: &Output) -> String {
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
        println!("SKIPPED {test}: python3 with `{module}` not found (pip install {module}; .ci/run installs it)");
    }
    found
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
