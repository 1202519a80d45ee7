//! The `github` format: one GitHub Actions workflow command per finding,
//! most severe first (GitHub shows only 10 annotations per level and step),
//! escaped exactly as `@actions/core` escapes them so no scanned text can
//! start a command of its own; and a Markdown table of every finding for
//! `$GITHUB_STEP_SUMMARY`.

use super::{Report, Totals, position, summary_line};
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

/// The Markdown summary: the counts, then every finding (annotations beyond
/// GitHub's limit show only here).
pub fn render_github_summary(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let paths = Paths::new(report);
    writeln!(
        out,
        "### planelint: {}\n",
        summary_line(report.diagnostics, &Totals::of(report))
    )?;
    if report.diagnostics.is_empty() {
        return Ok(());
    }
    writeln!(out, "| Severity | Rule | Location | Message |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for d in by_severity(report.diagnostics) {
        let at = position(report.sources, &d.location);
        let location = format!("{}:{}:{}", paths.shown(d.location.source, at.file), at.line, at.column);
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            d.severity,
            markdown_cell(d.rule.as_str()),
            markdown_cell(&location),
            markdown_cell(&d.message)
        )?;
    }
    writeln!(out)
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

/// Text for a Markdown table cell: the characters that could start markup
/// (links, images, emphasis, code, HTML, entities, math, a new cell) are
/// backslash-escaped, as CommonMark allows for any ASCII punctuation; line
/// breaks become spaces.
fn markdown_cell(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>|!~&$".contains(c) {
            cell.push('\\');
            cell.push(c);
        } else if c.is_control() {
            cell.push(' ');
        } else {
            cell.push(c);
        }
    }
    cell
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

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(markdown_cell("a|b\n[x](y) <img>"), "a\\|b \\[x\\](y) \\<img\\>");
    }
}
