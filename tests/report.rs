//! The audit report and the diagram: exact Markdown, DOT and Mermaid for the
//! fixtures (snapshots in tests/snapshots/, read before they are accepted),
//! a self-contained HTML page, and that page rendered by a real browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::root;
use std::process::Command;

/// `planelint ARGS` with a fixed clock, so reports are reproducible.
fn planelint(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_planelint"))
        .args(args)
        .current_dir(root())
        .env("SOURCE_DATE_EPOCH", "1795000000")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// Compares `got` with the snapshot `name`; `PLANELINT_BLESS=1` rewrites it.
fn assert_snapshot(name: &str, got: &str) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var_os("PLANELINT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(got, pinned, "{name} (PLANELINT_BLESS=1 cargo test rewrites it)");
}

#[test]
fn markdown_dot_and_mermaid_match_their_snapshots() {
    for fixture in ["seed-table", "mixed-values"] {
        let path = format!("fixtures/{fixture}");
        for (args, extension) in [
            (["report", path.as_str(), "--format", "markdown"], "md"),
            (["graph", path.as_str(), "--format", "dot"], "dot"),
            (["graph", path.as_str(), "--format", "mermaid"], "mmd"),
        ] {
            let (code, out) = planelint(&args);
            assert_eq!(code, 0);
            assert_snapshot(&format!("{fixture}.{extension}"), &out);
        }
    }
}

/// The model as data: every entity and field with its file, line and column,
/// spans inside a ConfigMap's text included.
#[test]
fn the_model_as_json_matches_its_snapshots() {
    for fixture in [
        "mixed-values",
        "real-shapes/configmap-operator",
        "real-shapes/flyte-storage",
    ] {
        let (code, out) = planelint(&["report", &format!("fixtures/{fixture}"), "--format", "json"]);
        assert_eq!(code, 0);
        assert_snapshot(&format!("{}.model.json", fixture.replace('/', "-")), &out);
    }
}

#[test]
fn markdown_marks_the_four_shared_rows_with_plain_pipe_tables() {
    let (_, out) = planelint(&["report", "fixtures/seed-table", "--format", "markdown"]);
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows.iter().filter(|r| r.contains("**shared account**")).count(), 4);
    assert!(!out.contains('<'), "no HTML is needed");
}

#[test]
fn html_is_one_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let (code, out) = planelint(&[
        "report",
        "fixtures/seed-table",
        "--format",
        "html",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!((code, out.as_str()), (0, ""));
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>planelint audit: union</title>"));
    assert_eq!(html.matches("<tr class=\"bad\">").count(), 4);
    assert_eq!(html.matches("<tr").count(), 10);
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    for fetch in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(fetch), "the page must not fetch anything: found {fetch}");
    }
}

#[test]
fn a_large_repo_is_summarized() {
    let dir = tempfile::tempdir().unwrap();
    common::generate(
        dir.path(),
        &["--projects", "3000", "--clusters", "5000", "--pools", "200"],
    );
    let output = dir.path().join("report.html");
    let (code, _) = planelint(&[
        "report",
        dir.path().to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(&output).unwrap();
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    assert!(html.contains("<p>9000 units; the rows with findings:</p>"));
    assert!(html.contains("<tr><td>production</td><td>3000</td>"));
    assert!(html.contains("<p>The clusters with findings:</p>"));
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        common::skip_without(
            "chromium",
            "the report screenshot test",
            ".ci/run installs Debian's chromium when it can",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let png = dir.path().join("report.png");
    let (code, _) = planelint(&["report", "fixtures/seed-table", "--output", html.to_str().unwrap()]);
    assert_eq!(code, 0);
    let browser = |extra: &[&str]| {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ])
            .args(["--disable-component-update", "--disable-sync"])
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap()
    };
    let dom = String::from_utf8_lossy(&browser(&["--dump-dom"]).stdout).into_owned();
    assert!(dom.contains("<title>planelint audit: union</title>"), "{dom}");
    browser(&[&format!("--screenshot={}", png.display()), "--window-size=1400,1100"]);
    let image = std::fs::read(&png).unwrap();
    assert_eq!(image.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    // A blank page compresses to almost nothing; this one has tables, text
    // and a diagram.
    assert!(image.len() > 30_000, "{} bytes", image.len());
}

#[test]
fn counts_of_one_are_singular() {
    let dir = common::repo(&[("plane.yaml", &common::shared_account("acct-1"))]);
    let (code, out) = planelint(&["report", dir.path().to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(out.contains("**1 error, 0 warnings, 0 notes** in 1 file, "), "{out}");
    let html = dir.path().join("report.html");
    let (code, _) = planelint(&[
        "report",
        dir.path().to_str().unwrap(),
        "--output",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains(r#"<span class="error">1 error</span>"#));
    assert!(html.contains("<p>Scanned 1 file with "));
}
