#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The real pre-commit framework (from PyPI) runs this repository's
//! `.pre-commit-hooks.yaml` in a throwaway config repo: it builds planelint
//! with `cargo install` (`language: rust`), lets a clean commit through and
//! blocks commits that break a rule, also when the finding lands in a file
//! the commit did not touch.

mod common;

use common::{MANIFEST_DIR, clean_plane, shared_account, write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How to start pre-commit here, if it is installed.
fn pre_commit() -> Option<Vec<String>> {
    let candidates = [
        vec!["pre-commit".to_string()],
        vec!["python3".into(), "-m".into(), "pre_commit".into()],
    ];
    candidates.into_iter().find(|command| {
        Command::new(&command[0])
            .args(&command[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Runs `program args` in `cwd` with git and cargo isolated from the
/// machine's own configuration.
fn run(cwd: &Path, program: &str, args: &[&str], home: &Path) -> Output {
    let output = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "planelint test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "planelint test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("PRE_COMMIT_HOME", home.join("pre-commit-cache"))
        // Kept between test runs, so only the first one builds from scratch.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-install-target"),
        )
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    println!("$ {program} {}\n{}", args.join(" "), printed(&output));
    output
}

/// What a command printed: git prints a hook's output on standard error.
fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn git(cwd: &Path, args: &[&str], home: &Path) -> Output {
    let output = run(cwd, "git", args, home);
    assert!(output.status.success(), "git {args:?} failed");
    output
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A committed copy of this working tree's hook and sources: pre-commit
/// needs a git repo and a rev, and the test must see uncommitted edits too.
fn hook_repo(dir: &Path, home: &Path) -> (PathBuf, String) {
    let repo = dir.join("hook-repo");
    let source = Path::new(MANIFEST_DIR);
    for file in ["Cargo.toml", "Cargo.lock", ".pre-commit-hooks.yaml"] {
        write(&repo, file, &std::fs::read_to_string(source.join(file)).unwrap());
    }
    for tree in ["src", "policies"] {
        copy_tree(&source.join(tree), &repo.join(tree));
    }
    git(&repo, &["init", "-q"], home);
    git(&repo, &["add", "."], home);
    git(&repo, &["commit", "-q", "-m", "planelint"], home);
    let rev = String::from_utf8(git(&repo, &["rev-parse", "HEAD"], home).stdout).unwrap();
    (repo, rev.trim().to_string())
}

fn pool(name: &str, bucket: &str) -> String {
    format!(
        "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {{name: {name}}}\nspec:\n  metadataBucket: {bucket}\n"
    )
}

#[test]
fn the_pre_commit_hook_blocks_a_shared_account_and_lets_a_clean_commit_through() {
    let Some(pre_commit) = pre_commit() else {
        common::skip_without(
            "pre-commit",
            "the pre-commit test",
            "pip install pre-commit; .ci/run installs it",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (hook, rev) = hook_repo(dir.path(), home);
    let config = dir.path().join("config-repo");
    write(
        &config,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: planelint\n",
            hook.display()
        ),
    );
    write(&config, "plane.yaml", &clean_plane());
    write(&config, "pools/a.yaml", &pool("alpha", "alpha-meta"));
    git(&config, &["init", "-q"], home);
    let mut install: Vec<&str> = pre_commit[1..].iter().map(String::as_str).collect();
    install.push("install");
    let install = run(&config, &pre_commit[0], &install, home);
    assert!(install.status.success());
    let head = |home: &Path| String::from_utf8(git(&config, &["rev-parse", "HEAD"], home).stdout).unwrap();

    // A clean commit goes through, and the hook really ran on it.
    git(&config, &["add", "."], home);
    let clean = run(&config, "git", &["commit", "-m", "clean data plane"], home);
    assert!(clean.status.success());
    assert!(printed(&clean).contains("planelint......"));
    assert!(printed(&clean).contains("Passed"));
    let clean_head = head(home);

    // A shared account is blocked, with the finding at its line and column.
    write(&config, "plane.yaml", &shared_account("acct-1"));
    git(&config, &["add", "plane.yaml"], home);
    let shared = run(&config, "git", &["commit", "-m", "share an account"], home);
    assert!(!shared.status.success());
    let text = printed(&shared);
    assert!(text.contains("Failed"), "{text}");
    assert!(
        text.contains("plane.yaml:12:62: error[placement-account-shared]: account acct-1 of staging/p2 is already used by staging/p1"),
        "{text}"
    );
    assert_eq!(head(home), clean_head);
    git(&config, &["checkout", "--", "."], home);
    git(&config, &["reset", "-q", "--hard"], home);

    // Only pools/0.yaml is staged; the finding lands on the unchanged
    // pools/a.yaml, whose bucket the new, earlier pool now takes: planelint
    // loads the whole repo and reports it, as it touches a staged file.
    write(&config, "pools/0.yaml", &pool("zero", "alpha-meta"));
    git(&config, &["add", "pools/0.yaml"], home);
    let cross = run(&config, "git", &["commit", "-m", "share a bucket"], home);
    assert!(!cross.status.success());
    let text = printed(&cross);
    assert!(
        text.contains("pools/a.yaml:5:19: error[pool-metadata-bucket-shared]: pool alpha uses metadata bucket alpha-meta, which pool zero already uses"),
        "{text}"
    );
    assert_eq!(head(home), clean_head);
}
