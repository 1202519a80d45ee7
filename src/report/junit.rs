//! The JUnit XML format, for CI dashboards: `<testsuites>`, one
//! `<testsuite>` per rule and one `<testcase>` per (rule, file). A testcase
//! fails when it has a finding at or above the fail level; findings below it
//! go to `<system-out>`. Everything taken from scanned files is escaped.

use super::escape::xml as escape;
use super::{Report, position};
use crate::diagnostic::Diagnostic;
use crate::registry::Registry;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub fn render_junit(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    // rule -> file -> its findings; every scanned file under every rule, so
    // a clean file shows as a passing test.
    let mut suites: BTreeMap<&str, BTreeMap<&str, Vec<&Diagnostic>>> = BTreeMap::new();
    let scanned: Vec<&str> = report
        .scanned
        .iter()
        .filter_map(|id| report.sources.get(*id))
        .map(|file| file.name.as_str())
        .collect();
    for rule in Registry::new(report.policies, report.sources)
        .covering(report.diagnostics)
        .rules()
    {
        let cases = suites.entry(rule.id).or_default();
        for file in &scanned {
            cases.entry(file).or_default();
        }
    }
    for d in report.diagnostics {
        let file = position(report.sources, &d.location).file;
        suites
            .entry(d.rule.as_str())
            .or_default()
            .entry(file)
            .or_default()
            .push(d);
    }
    let fails = |findings: &[&Diagnostic]| findings.iter().any(|d| d.severity >= report.fail_level);
    let tests: usize = suites.values().map(BTreeMap::len).sum();
    let failures: usize = suites
        .values()
        .flat_map(BTreeMap::values)
        .filter(|findings| fails(findings))
        .count();

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="planelint" tests="{tests}" failures="{failures}" errors="0">"#
    )?;
    for (rule, cases) in &suites {
        let suite_failures = cases.values().filter(|findings| fails(findings)).count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{suite_failures}" errors="0">"#,
            escape(rule, true),
            cases.len()
        )?;
        for (file, findings) in cases {
            write!(
                out,
                r#"    <testcase name="{}" classname="planelint.{}""#,
                escape(file, true),
                escape(rule, true)
            )?;
            if findings.is_empty() {
                writeln!(out, "/>")?;
                continue;
            }
            writeln!(out, ">")?;
            let text: String = findings.iter().map(|d| line(report, d)).collect();
            match findings.iter().map(|d| d.severity).max() {
                Some(worst) if worst >= report.fail_level => {
                    let first = findings.first().map_or("", |d| d.message.as_str());
                    writeln!(
                        out,
                        r#"      <failure type="{worst}" message="{}">{}</failure>"#,
                        escape(first, true),
                        escape(&text, false)
                    )?;
                }
                _ => writeln!(out, "      <system-out>{}</system-out>", escape(&text, false))?,
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// `file:line:col: severity[rule]: message`, as the plain human format.
fn line(report: &Report<'_>, d: &Diagnostic) -> String {
    let at = position(report.sources, &d.location);
    format!(
        "{}:{}:{}: {}[{}]: {}\n",
        at.file, at.line, at.column, d.severity, d.rule, d.message
    )
}
