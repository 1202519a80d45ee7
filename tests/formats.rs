#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sarif, github and junit formats, `--output`, `--fail-level`, and
//! whole-root loading when only files are named.

mod common;

use common::{MANIFEST_DIR, planelint_env, python_has, shared_account, stdout, write};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const INJECTED: &str = r#""a,1:%\r\n::error::injected""#;

fn sarif(cwd: &Path, path: &str) -> Value {
    let output = planelint_env(cwd, &["check", "--format", "sarif", path], &[]);
    serde_json::from_slice(&output.stdout).unwrap()
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

fn fixtures() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(Path::new(MANIFEST_DIR).join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn sarif_of_every_fixture_validates_against_the_official_schema() {
    let schema = Path::new(MANIFEST_DIR).join("../shared/schemas/sarif-schema-2.1.0.json");
    if !schema.is_file() {
        common::skip_absent(&schema, "SARIF schema validation");
        return;
    }
    if !python_has("jsonschema", "sarif schema validation") {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    for fixture in fixtures() {
        let name = fixture.file_name().unwrap().to_str().unwrap().to_string();
        let log = sarif(Path::new(MANIFEST_DIR), fixture.to_str().unwrap());
        let file = scratch.path().join(format!("{name}.sarif"));
        std::fs::write(&file, serde_json::to_vec(&log).unwrap()).unwrap();
        let validated = Command::new("python3")
            .args([
                "-c",
                "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.validate(json.load(open(sys.argv[2])), schema)",
            ])
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            validated.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&validated.stderr)
        );
        for result in results(&log) {
            let location = &result["locations"][0]["physicalLocation"];
            let uri = location["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                !uri.starts_with('/') && !uri.starts_with("../") && !uri.contains(':'),
                "{uri}"
            );
            assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(location["region"][key].as_u64().unwrap() >= 1, "{name}: {key}");
            }
            assert_eq!(
                result["partialFingerprints"]["planelint/v1"].as_str().unwrap().len(),
                16
            );
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(log["runs"][0]["tool"]["driver"]["rules"][index]["id"], result["ruleId"]);
        }
    }
}

#[test]
fn sarif_for_the_seed_table_has_rules_regions_and_repo_relative_uris() {
    let log = sarif(Path::new(MANIFEST_DIR), "fixtures/seed-table");
    let run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "planelint");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    // Every rule, sorted: the engine's own and one per built-in policy file.
    let mut every: Vec<String> = planelint::diagnostic::ENGINE_RULES
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    every.extend(
        planelint::policy::BUILTIN
            .iter()
            .map(|(name, _)| name.trim_end_matches(".yaml").to_string()),
    );
    every.sort();
    assert_eq!(ids, every);
    assert!(ids.contains(&"placement-account-shared") && ids.contains(&"yaml-syntax"));
    let rule = &rules[ids.iter().position(|id| *id == "placement-account-shared").unwrap()];
    assert_eq!(rule["name"], "PlacementAccountShared");
    assert_eq!(
        rule["shortDescription"]["text"],
        "Each isolation unit maps to its own cloud account."
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(
        rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .starts_with("**Each isolation unit")
    );
    assert_eq!(rules[4]["defaultConfiguration"]["level"], "warning");

    let results = results(&log);
    assert_eq!(results.len(), 4);
    let first = &results[0];
    assert_eq!(first["ruleId"], "placement-account-shared");
    // The index of its rule in the driver's sorted rules.
    let index = ids.iter().position(|id| *id == "placement-account-shared").unwrap();
    assert_eq!(first["ruleIndex"], index);
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["message"]["text"],
        "account gcp-project-union-staging-project-1 of staging/project-2 is already used by staging/project-1; \
         each unit needs its own account"
    );
    let location = &first["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "fixtures/seed-table/dataplane.yaml"
    );
    assert_eq!(
        location["region"],
        serde_json::json!({"startLine": 23, "startColumn": 69, "endLine": 23, "endColumn": 104})
    );
    let related = &first["relatedLocations"][0];
    assert_eq!(related["id"], 1);
    assert_eq!(related["message"]["text"], "placements[staging/project-1].account");
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 22);
    // The root is the git top level of the scanned files.
    let root = std::fs::canonicalize(MANIFEST_DIR).unwrap();
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/", root.display())
    );
}

#[test]
fn sarif_uris_are_relative_to_the_git_top_level_else_the_scanned_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    write(&root, "repo/.git/HEAD", "ref: refs/heads/main\n");
    write(&root, "repo/config/plane.yaml", &shared_account("acct-1"));
    write(&root, "loose/plane.yaml", &shared_account("acct-1"));

    let log = sarif(&root.join("repo/config"), ".");
    assert_eq!(
        results(&log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/plane.yaml"
    );
    assert_eq!(
        log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/repo/", root.display())
    );

    let log = sarif(&root, "loose");
    assert_eq!(
        results(&log)[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "plane.yaml"
    );
    assert_eq!(
        log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        format!("file://{}/loose/", root.display())
    );
}

#[test]
fn sarif_fingerprints_survive_blank_lines_inserted_above_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("fixtures/seed-table/dataplane.yaml")).unwrap();
    write(dir.path(), "dataplane.yaml", &seed);
    let before = sarif(dir.path(), ".");
    write(dir.path(), "dataplane.yaml", &format!("\n\n\n{seed}"));
    let after = sarif(dir.path(), ".");
    let summary = |log: &Value| -> Vec<(String, u64)> {
        results(log)
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["planelint/v1"].as_str().unwrap().to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect()
    };
    let (before, after) = (summary(&before), summary(&after));
    assert_eq!(before.len(), 4);
    for ((fingerprint, line), (moved_fingerprint, moved_line)) in before.iter().zip(&after) {
        assert_eq!(fingerprint, moved_fingerprint);
        assert_eq!(line + 3, *moved_line);
    }
    let distinct: std::collections::BTreeSet<_> = before.iter().map(|(f, _)| f).collect();
    assert_eq!(distinct.len(), 4);
}

#[test]
fn github_annotations_for_the_seed_table() {
    let output = planelint_env(
        Path::new(MANIFEST_DIR),
        &["check", "--format", "github", "fixtures/seed-table"],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        "::error file=fixtures/seed-table/dataplane.yaml,line=23,col=69,endLine=23,endColumn=104,\
         title=placement-account-shared::account gcp-project-union-staging-project-1 of staging/project-2 \
         is already used by staging/project-1; each unit needs its own account"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("::error file=fixtures/seed-table/dataplane.yaml,line="))
    );
}

/// A workflow command parsed and unescaped as the Actions runner does
/// (`ActionCommand.TryParseV2`): command, properties, data.
fn parse_command(line: &str) -> (String, Vec<(String, String)>, String) {
    let rest = line.strip_prefix("::").unwrap();
    let end = rest.find("::").unwrap();
    let (info, data) = (&rest[..end], &rest[end + 2..]);
    let (command, properties) = info.split_once(' ').unwrap_or((info, ""));
    let unescape = |text: &str, property: bool| {
        let mut text = text.replace("%0D", "\r").replace("%0A", "\n");
        if property {
            text = text.replace("%3A", ":").replace("%2C", ",");
        }
        text.replace("%25", "%")
    };
    let properties = properties
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (key, value) = p.split_once('=').unwrap();
            (key.to_string(), unescape(value, true))
        })
        .collect();
    (command.to_string(), properties, unescape(data, false))
}

#[test]
fn github_escaping_round_trips_and_an_injected_command_stays_inside_one_annotation() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "we,ird:50%.yaml", &shared_account(INJECTED));
    let output = planelint_env(dir.path(), &["check", "--format", "github", "."], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert_eq!(
        text,
        "::error file=we%2Cird%3A50%25.yaml,line=12,col=62,endLine=12,endColumn=90,\
         title=placement-account-shared::account a,1:%25%0D%0A::error::injected of staging/p2 \
         is already used by staging/p1; each unit needs its own account\n"
    );
    let (command, properties, message) = parse_command(text.trim_end());
    assert_eq!(command, "error");
    assert_eq!(properties[0], ("file".to_string(), "we,ird:50%.yaml".to_string()));
    assert_eq!(
        properties[5],
        ("title".to_string(), "placement-account-shared".to_string())
    );
    assert_eq!(
        message,
        "account a,1:%\r\n::error::injected of staging/p2 is already used by staging/p1; each unit needs its own account"
    );
}

#[test]
fn github_annotations_are_most_severe_first_relative_to_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a/cluster.yaml",
        "apiVersion: planelint/v1\nkind: Cluster\nmetadata: {name: c1}\nspec:\n  pool: nowhere\n",
    );
    write(dir.path(), "b/plane.yaml", &shared_account("acct-1"));
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = planelint_env(
        &dir.path().join("a"),
        &["check", "--format", "github", "..", "--fail-level", "warning"],
        &[("GITHUB_WORKSPACE", dir.path()), ("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "::error file=b/plane.yaml,line=12,col=62,endLine=12,endColumn=68,title=placement-account-shared::\
         account acct-1 of staging/p2 is already used by staging/p1; each unit needs its own account\n\
         ::warning file=a/cluster.yaml,line=5,col=9,endLine=5,endColumn=16,title=cluster-pool-unknown::\
         cluster c1 names pool nowhere, which has no ClusterPool manifest\n"
    );
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "earlier step\n\
         ### planelint: 1 error, 1 warning, 0 notes in 2 files\n\n\
         | Severity | Rule | Location | Message |\n\
         | --- | --- | --- | --- |\n\
         | error | placement-account-shared | b/plane.yaml:12:62 | account acct-1 of staging/p2 is already used \
         by staging/p1; each unit needs its own account |\n\
         | warning | cluster-pool-unknown | a/cluster.yaml:5:9 | cluster c1 names pool nowhere, which has no \
         ClusterPool manifest |\n\n"
    );
}

#[test]
fn one_run_writes_annotations_to_stdout_and_sarif_and_junit_to_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "plane.yaml", &shared_account("acct-1"));
    let run = || {
        let args = [
            "check",
            "--format",
            "github",
            "--output",
            "sarif=out/report.sarif",
            "--output",
            "junit=report.xml",
            "plane.yaml",
        ];
        planelint_env(dir.path(), &args, &[])
    };
    let output = run();
    assert_eq!(output.status.code(), Some(2), "out/ does not exist");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let output = run();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).lines().count(), 1);
    assert!(stdout(&output).starts_with("::error file=plane.yaml,line=12,"));
    let log: Value = serde_json::from_slice(&std::fs::read(dir.path().join("out/report.sarif")).unwrap()).unwrap();
    assert_eq!(results(&log).len(), 1);
    let junit = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
    assert!(junit.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"planelint\""));

    // Files are written whole, through a file beside them: none is left.
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["report.sarif"]);
    // What cannot be replaced is not: the write fails, nothing is left over.
    std::fs::create_dir(dir.path().join("taken.xml")).unwrap();
    let taken = planelint_env(dir.path(), &["check", "--output", "junit=taken.xml", "plane.yaml"], &[]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(dir.path().join("taken.xml").is_dir());
    assert!(
        !std::fs::read_dir(dir.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    );
    // A device is written in place.
    if cfg!(unix) {
        let device = planelint_env(dir.path(), &["check", "--output", "junit=/dev/null", "plane.yaml"], &[]);
        assert_eq!(device.status.code(), Some(1));
    }

    let bad = planelint_env(dir.path(), &["check", "--output", "yaml=x", "."], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown format `yaml`"));
}

#[test]
fn junit_has_a_testcase_per_rule_and_file_and_escapes_scanned_text() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a<&>.yaml", &shared_account(INJECTED));
    write(
        dir.path(),
        "clean.yaml",
        "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {name: p}\n",
    );
    let output = planelint_env(dir.path(), &["check", "--format", "junit", "."], &[]);
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout(&output);
    // A testcase per rule and file: two files.
    let tests = 2 * (planelint::diagnostic::ENGINE_RULES.len() + common::builtin_rule_count());
    assert!(xml.contains(&format!(
        r#"<testsuites name="planelint" tests="{tests}" failures="1" errors="0">"#
    )));
    assert!(xml.contains(
        r#"  <testsuite name="placement-account-shared" tests="2" failures="1" errors="0">
    <testcase name="a&lt;&amp;&gt;.yaml" classname="planelint.placement-account-shared">
      <failure type="error" message="account a,1:%&#13;&#10;::error::injected of staging/p2 is already used by staging/p1; each unit needs its own account">a&lt;&amp;&gt;.yaml:12:62: error[placement-account-shared]: account a,1:%&#13;
::error::injected of staging/p2 is already used by staging/p1; each unit needs its own account
</failure>
    </testcase>
    <testcase name="clean.yaml" classname="planelint.placement-account-shared"/>
  </testsuite>"#
    ));
    if python_has("xml.etree.ElementTree", "junit well-formedness") {
        let parsed = Command::new("python3")
            .args([
                "-c",
                "import sys, xml.etree.ElementTree as E\n\
                 root = E.fromstring(sys.argv[1])\n\
                 f = root.find('.//failure')\n\
                 print(root.tag, len(root.findall('.//testcase')), repr(f.get('message')[:20]))",
            ])
            .arg(&xml)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(parsed.stdout).unwrap(),
            format!("testsuites {tests} 'account a,1:%\\r\\n::err'\n")
        );
    }
}

#[test]
fn fail_level_decides_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cluster.yaml",
        "apiVersion: planelint/v1\nkind: Cluster\nmetadata: {name: c1}\nspec:\n  pool: nowhere\n",
    );
    let code = |level: &str| {
        planelint_env(dir.path(), &["check", "--fail-level", level, "."], &[])
            .status
            .code()
    };
    assert_eq!(code("error"), Some(0));
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("note"), Some(1));
}

/// A config repo of cluster pools (no `DataPlane`, so all in one model):
/// `config/` holds `.planelint.yaml`; `other/` is outside it.
fn config_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pool = |name: &str, bucket: &str| {
        format!(
            "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata: {{name: {name}}}\nspec:\n  metadataBucket: {bucket}\n"
        )
    };
    write(dir.path(), ".git/HEAD", "ref: refs/heads/main\n");
    write(dir.path(), "config/.planelint.yaml", "");
    write(dir.path(), "config/a.yaml", &pool("alpha", "s3://shared-meta"));
    write(dir.path(), "config/b.yaml", &pool("beta", "shared-meta"));
    write(dir.path(), "config/clean.yaml", &pool("gamma", "gamma-meta"));
    write(dir.path(), "other/d.yaml", &pool("delta", "shared-meta"));
    dir
}

fn findings(cwd: &Path, paths: &[&str]) -> Vec<String> {
    let mut args = vec!["check", "--format", "json"];
    args.extend(paths);
    let output = planelint_env(cwd, &args, &[]);
    common::finding_lines(&serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn named_files_load_the_whole_root_and_report_findings_touching_them() {
    let repo = config_repo();
    let root = repo.path();
    // b's finding is on b; it also touches a (its related location).
    assert_eq!(
        findings(root, &["config/b.yaml"]),
        ["config/b.yaml:5:19 pool-metadata-bucket-shared"]
    );
    assert_eq!(
        findings(root, &["config/a.yaml"]),
        ["config/b.yaml:5:19 pool-metadata-bucket-shared"]
    );
    assert!(findings(root, &["config/clean.yaml"]).is_empty());
    assert_eq!(
        findings(&root.join("config"), &["clean.yaml", "b.yaml"]),
        ["b.yaml:5:19 pool-metadata-bucket-shared"]
    );
    // A directory argument is the root itself: other/ is not under config/.
    assert_eq!(
        findings(root, &["config"]),
        ["config/b.yaml:5:19 pool-metadata-bucket-shared"]
    );
    // config/ is a root of its own (its .planelint.yaml): other/d.yaml is
    // in the git top level's model, where no other pool uses its bucket.
    assert_eq!(
        findings(root, &["."]),
        ["config/b.yaml:5:19 pool-metadata-bucket-shared"]
    );
}

#[test]
fn without_a_config_file_the_git_top_level_is_the_root() {
    let repo = config_repo();
    std::fs::remove_file(repo.path().join("config/.planelint.yaml")).unwrap();
    assert_eq!(
        findings(repo.path(), &["other/d.yaml"]),
        ["other/d.yaml:5:19 pool-metadata-bucket-shared"]
    );
}
