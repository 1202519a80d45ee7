//! The `github` format: one GitHub Actions workflow command per finding,
//! most severe first (GitHub shows only 10 annotations per level and step),
//! escaped exactly as `@actions/core` escapes them so no scanned text can
//! start a command of its own; and a Markdown table of the findings for
//! `$GITHUB_STEP_SUMMARY`, within GitHub's size limit.

use super::escape::markdown;
use super::{Report, Totals, counted, position, summary_line};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceId, path_below};
use std::io::{self, Write};
use std::path::PathBuf;

pub fn render_github(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let paths = Paths::new(report);
    for d in by_severity(report.diagnostics) {
        let at = position(report.sources, &d.location);
        writeln!(
            out,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            command(d.severity),
            escape_property(&paths.shown(d.location.source, at.file)),
            at.line,
            at.column,
            at.end_line,
            at.end_column,
            escape_property(d.rule.as_str()),
            escape_data(&d.message)
        )?;
    }
    Ok(())
}

/// GitHub's limit on one step's summary: a larger one is not shown at all.
pub const STEP_SUMMARY_BYTES: usize = 1 << 20;

/// Room kept for the line that counts the findings left out.
const LEFT_OUT_LINE_BYTES: usize = 256;

/// The Markdown summary: the counts, then the findings, most severe first
/// (annotations beyond GitHub's limit show only here), in at most `budget`
/// bytes: the findings that do not fit are counted in a last line, and
/// nothing is written when not even that fits.
pub fn render_github_summary(out: &mut dyn Write, report: &Report<'_>, budget: usize) -> io::Result<()> {
    let paths = Paths::new(report);
    let mut summary = format!(
        "### planelint: {}\n\n",
        summary_line(report.diagnostics, &Totals::of(report))
    );
    if !report.diagnostics.is_empty() {
        summary.push_str("| Severity | Rule | Location | Message |\n| --- | --- | --- | --- |\n");
        let ordered = by_severity(report.diagnostics);
        let mut shown = 0;
        for d in &ordered {
            let at = position(report.sources, &d.location);
            let location = format!("{}:{}:{}", paths.shown(d.location.source, at.file), at.line, at.column);
            let row = format!(
                "| {} | {} | {} | {} |\n",
                d.severity,
                markdown(d.rule.as_str()),
                markdown(&location),
                markdown(&d.message)
            );
            if summary.len() + row.len() + LEFT_OUT_LINE_BYTES > budget {
                break;
            }
            summary.push_str(&row);
            shown += 1;
        }
        summary.push('\n');
        let left_out = ordered.len() - shown;
        if left_out > 0 {
            summary.push_str(&format!(
                "{} not shown here: a step summary holds at most 1 MiB. The annotations, a SARIF report or `planelint check` list them all.\n\n",
                counted(left_out, "finding", "findings")
            ));
        }
    }
    // A file over the limit loses its whole summary, earlier steps' too.
    if summary.len() > budget {
        return Ok(());
    }
    out.write_all(summary.as_bytes())
}

/// Most severe first; within a severity, in file order.
fn by_severity(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    let mut ordered: Vec<&Diagnostic> = diagnostics.iter().collect();
    ordered.sort_by_key(|d| std::cmp::Reverse(d.severity));
    ordered
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// File paths as GitHub resolves them: relative to `GITHUB_WORKSPACE` when
/// the file is below it, else as shown.
struct Paths<'a> {
    report: &'a Report<'a>,
    workspace: Option<PathBuf>,
}

impl<'a> Paths<'a> {
    fn new(report: &'a Report<'a>) -> Self {
        Paths {
            report,
            workspace: report.workspace.and_then(|w| std::fs::canonicalize(w).ok()),
        }
    }

    fn shown(&self, source: SourceId, name: &str) -> String {
        self.workspace
            .as_deref()
            .zip(self.report.sources.get(source))
            .filter(|(_, file)| file.path.is_absolute())
            .and_then(|(workspace, file)| path_below(workspace, file))
            .unwrap_or_else(|| name.to_string())
    }
}

/// `escapeData` of `@actions/core`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// `escapeProperty` of `@actions/core`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_toolkit_does() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("50% a\r\nb: c, d"), "50%25 a%0D%0Ab%3A c%2C d");
        assert_eq!(escape_data("%0A"), "%250A");
    }
}
