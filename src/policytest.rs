//! Policy tests (`planelint test`): fixture repos whose lines carry
//! `# expect: rule-id` markers. Each expectation is met (a finding of that
//! rule on that line), missed, or contradicted by an unexpected finding.
//! Finds the fixture repos, compares and renders; `main.rs` runs the checks.
//! Imports `source`, `diagnostic`, `expect`, `discover`, `policy` and `report`.

use crate::diagnostic::Diagnostic;
use crate::expect;
use crate::policy::Policy;
use crate::report::escape::xml as escape_xml;
use crate::source::{SourceId, SourceMap};
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Directories never searched for fixtures.
const SKIPPED: &[&str] = &[".git", "target", "node_modules"];

/// A finding (or an expected one): file, 1-based line, rule.
pub type Mark = (String, usize, String);

/// The fixture repos under `dirs`, sorted: a directory named `fires` or
/// `quiet`, or one that holds a YAML file itself, is one repo (with every
/// directory below it); any other directory is searched.
pub fn fixture_repos(dirs: &[PathBuf], cwd: &Path) -> io::Result<Vec<PathBuf>> {
    let mut repos = Vec::new();
    let mut pending: Vec<PathBuf> = dirs.to_vec();
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(cwd.join(&dir))
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        let mut children = Vec::new();
        let mut holds_yaml = false;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let path = dir.join(&name);
            if entry.file_type()?.is_dir() {
                if !name.to_str().is_some_and(|n| SKIPPED.contains(&n)) {
                    children.push(path);
                }
            } else {
                holds_yaml |= crate::discover::is_yaml(&path);
            }
        }
        let named = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n == "fires" || n == "quiet");
        if named || holds_yaml {
            repos.push(dir);
        } else {
            pending.extend(children);
        }
    }
    repos.sort();
    Ok(repos)
}

/// Which rules a fixture repo's comparison counts. A repo
/// `rules/<rule>/fires` or `rules/<rule>/quiet`, where `<rule>` is one of
/// the run's policies, tests that rule alone: only its findings and
/// expectations count there, with those of the engine's own rules (which no
/// policy makes), so that adding a rule never changes another rule's
/// fixtures. Any other repo counts every rule.
pub struct Scope {
    alone: Option<String>,
    policies: BTreeSet<String>,
}

impl Scope {
    pub fn of(repo: &Path, policies: &[Policy]) -> Scope {
        let policies: BTreeSet<String> = policies.iter().map(|p| p.id.to_string()).collect();
        let alone = (|| {
            let kind = repo.file_name()?.to_str()?;
            let rule_dir = repo.parent()?;
            let rules = rule_dir.parent()?.file_name()?.to_str()?;
            let rule = rule_dir.file_name()?.to_str()?;
            (matches!(kind, "fires" | "quiet") && rules == "rules" && policies.contains(rule)).then(|| rule.to_string())
        })();
        Scope { alone, policies }
    }

    /// The rule the repo tests alone, if it does.
    pub fn alone(&self) -> Option<&str> {
        self.alone.as_deref()
    }

    pub fn counts(&self, rule: &str) -> bool {
        self.alone
            .as_deref()
            .is_none_or(|alone| rule == alone || !self.policies.contains(rule))
    }
}

/// The `# expect:` markers of `files`.
pub fn expectations(sources: &SourceMap, files: &[SourceId]) -> BTreeSet<Mark> {
    files
        .iter()
        .filter_map(|id| sources.get(*id))
        .flat_map(|file| {
            expect::parse(&file.text)
                .into_iter()
                .map(|e| (file.name.clone(), e.line, e.rule))
        })
        .collect()
}

/// One fixture repo's result.
#[derive(Debug)]
pub struct Outcome {
    pub repo: String,
    pub met: Vec<Mark>,
    pub missed: Vec<Mark>,
    pub unexpected: Vec<Mark>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.missed.is_empty() && self.unexpected.is_empty()
    }
}

/// Compares a repo's expectations with its findings.
pub fn compare(repo: String, expected: BTreeSet<Mark>, findings: &[Diagnostic], sources: &SourceMap) -> Outcome {
    let found: BTreeSet<Mark> = findings
        .iter()
        .filter_map(|d| {
            let file = sources.get(d.location.source)?;
            Some((
                file.name.clone(),
                file.line_col(d.location.span.start).line,
                d.rule.to_string(),
            ))
        })
        .collect();
    Outcome {
        repo,
        met: expected.intersection(&found).cloned().collect(),
        missed: expected.difference(&found).cloned().collect(),
        unexpected: found.difference(&expected).cloned().collect(),
    }
}

/// One line per repo, the mismatches below a failed one, and a summary.
pub fn render_human(out: &mut dyn Write, outcomes: &[Outcome]) -> io::Result<()> {
    for outcome in outcomes {
        let status = if outcome.passed() { "ok  " } else { "FAIL" };
        writeln!(out, "{status} {}: {}", outcome.repo, counts(outcome))?;
        for (what, marks) in [("missed", &outcome.missed), ("unexpected", &outcome.unexpected)] {
            for (file, line, rule) in marks {
                writeln!(out, "  {what}: {file}:{line}: {rule}")?;
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    let total = |f: fn(&Outcome) -> usize| outcomes.iter().map(f).sum::<usize>();
    writeln!(
        out,
        "test result: {}. {} fixture {}, {failed} failed; {} met, {} missed, {} unexpected",
        if failed == 0 { "ok" } else { "FAILED" },
        outcomes.len(),
        if outcomes.len() == 1 { "repo" } else { "repos" },
        total(|o| o.met.len()),
        total(|o| o.missed.len()),
        total(|o| o.unexpected.len()),
    )
}

fn counts(outcome: &Outcome) -> String {
    format!(
        "{} met, {} missed, {} unexpected",
        outcome.met.len(),
        outcome.missed.len(),
        outcome.unexpected.len()
    )
}

/// JUnit XML: a `<testsuite>` per repo, a `<testcase>` per expectation, and
/// one `no unexpected findings` testcase per repo.
pub fn render_junit(out: &mut dyn Write, outcomes: &[Outcome]) -> io::Result<()> {
    let tests: usize = outcomes.iter().map(|o| o.met.len() + o.missed.len() + 1).sum();
    let failures: usize = outcomes
        .iter()
        .map(|o| o.missed.len() + usize::from(!o.unexpected.is_empty()))
        .sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="planelint test" tests="{tests}" failures="{failures}" errors="0">"#
    )?;
    for outcome in outcomes {
        let repo = escape_xml(&outcome.repo, true);
        writeln!(
            out,
            r#"  <testsuite name="{repo}" tests="{}" failures="{}" errors="0">"#,
            outcome.met.len() + outcome.missed.len() + 1,
            outcome.missed.len() + usize::from(!outcome.unexpected.is_empty())
        )?;
        let mut expectations: Vec<(&Mark, bool)> = outcome
            .met
            .iter()
            .map(|m| (m, true))
            .chain(outcome.missed.iter().map(|m| (m, false)))
            .collect();
        expectations.sort();
        for ((file, line, rule), met) in expectations {
            let name = escape_xml(&format!("{file}:{line}: {rule}"), true);
            if met {
                writeln!(out, r#"    <testcase name="{name}" classname="{repo}"/>"#)?;
            } else {
                writeln!(out, r#"    <testcase name="{name}" classname="{repo}">"#)?;
                writeln!(out, r#"      <failure message="expected finding not reported"/>"#)?;
                writeln!(out, "    </testcase>")?;
            }
        }
        if outcome.unexpected.is_empty() {
            writeln!(
                out,
                r#"    <testcase name="no unexpected findings" classname="{repo}"/>"#
            )?;
        } else {
            writeln!(
                out,
                r#"    <testcase name="no unexpected findings" classname="{repo}">"#
            )?;
            let list: Vec<String> = outcome
                .unexpected
                .iter()
                .map(|(file, line, rule)| format!("{file}:{line}: {rule}"))
                .collect();
            writeln!(
                out,
                r#"      <failure message="unexpected findings">{}</failure>"#,
                escape_xml(&list.join("\n"), false)
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}
