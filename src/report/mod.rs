//! Report: renders sorted diagnostics in one output format. Reads
//! `diagnostic`, `source`, `policy` and the rule `registry`; writes to the
//! `io::Write` it is given and never prints.

pub mod escape;
mod github;
mod human;
mod json;
mod junit;
mod rules;
mod sarif;

pub use github::{STEP_SUMMARY_BYTES, render_github, render_github_summary};
pub use human::{Style, render_human};
pub use json::render_json;
pub use junit::render_junit;
pub use rules::{render_explain, render_rule_table, render_rules_json, render_rules_markdown};
pub use sarif::render_sarif;

use crate::diagnostic::{Diagnostic, INPUT_LIMIT, POLICY_ERROR, Severity, Suppressed, Suppression};
use crate::policy::Policy;
use crate::source::{SourceId, SourceMap, Span};
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Junit,
    ];

    /// The names `--format` and `format:` accept.
    // Evaluated when compiling: an index out of bounds fails the build.
    #[allow(clippy::indexing_slicing)]
    pub const NAMES: [&'static str; Format::ALL.len()] = {
        let mut names = [""; Format::ALL.len()];
        let mut at = 0;
        while at < names.len() {
            names[at] = Format::ALL[at].name();
            at += 1;
        }
        names
    };

    pub const fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Junit => "junit",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        Format::ALL.into_iter().find(|f| f.name() == text).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format `{text}` (expected one of {})", names.join(", "))
        })
    }
}

/// Everything a renderer may show about one run.
pub struct Report<'a> {
    /// Sorted by file, line, column, rule and message.
    pub diagnostics: &'a [Diagnostic],
    /// Findings hidden by a suppression: JSON and SARIF list them, marked.
    pub suppressed: &'a [Suppressed],
    pub sources: &'a SourceMap,
    /// The loaded policies, sorted by id: SARIF's rules and JUnit's suites.
    pub policies: &'a [Policy],
    /// The config files findings are reported for.
    pub scanned: &'a [SourceId],
    pub files_scanned: usize,
    /// Files found but not checked (unreadable, not regular files, and
    /// those of `skipped`).
    pub skipped_files: usize,
    /// YAML files left out on purpose, with the reason: JSON lists them.
    pub skipped: &'a [crate::discover::Skipped],
    /// YAML documents a reader recognized.
    pub documents_read: usize,
    /// YAML documents no reader recognized: JSON lists them.
    pub unread: &'a [crate::model::Unread],
    /// False when a policy failed to load (exit 2).
    pub execution_successful: bool,
    /// The absolute directory SARIF URIs are relative to.
    pub root: &'a Path,
    /// `GITHUB_WORKSPACE`, when set: `github` paths are relative to it.
    pub workspace: Option<&'a Path>,
    /// Findings below it pass in JUnit.
    pub fail_level: Severity,
}

/// Renders `report` in `format`; `style` applies to `human` only.
pub fn render(out: &mut dyn Write, format: Format, report: &Report<'_>, style: Style) -> io::Result<()> {
    match format {
        Format::Human => render_human(out, report.diagnostics, report.sources, &Totals::of(report), style),
        Format::Json => render_json(out, report),
        Format::Sarif => render_sarif(out, report),
        Format::Github => render_github(out, report),
        Format::Junit => render_junit(out, report),
    }
}

/// Every finding, shown and suppressed, in output order.
pub(crate) fn all_findings<'a>(report: &Report<'a>) -> Vec<(&'a Diagnostic, Option<&'a Suppression>)> {
    let mut all: Vec<(&Diagnostic, Option<&Suppression>)> = report
        .diagnostics
        .iter()
        .map(|d| (d, None))
        .chain(report.suppressed.iter().map(|s| (&s.diagnostic, Some(&s.suppression))))
        .collect();
    all.sort_by(|a, b| crate::diagnostic::compare(a.0, b.0, report.sources));
    all
}

/// A span as 1-based lines and columns (end exclusive), in a named file.
pub(crate) struct Position<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub span: Span,
}

pub(crate) fn position<'a>(sources: &'a SourceMap, location: &crate::diagnostic::Location) -> Position<'a> {
    match sources.get(location.source) {
        Some(file) => {
            let span = file.clamp(location.span);
            let start = file.line_col(span.start);
            let end = file.line_col(span.end);
            Position {
                file: &file.name,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                span,
            }
        }
        None => Position {
            file: "",
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            span: Span::default(),
        },
    }
}

/// Counts per severity, and of the findings that say the check was
/// incomplete (fail closed: they are errors, and the summary shows them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Policies that could not be compiled or evaluated on an entity.
    pub policy_errors: usize,
    /// Inputs cut short by a limit (size, depth, aliases, documents).
    pub input_limits: usize,
}

impl Counts {
    pub fn of(diagnostics: &[Diagnostic]) -> Counts {
        let mut counts = Counts::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => counts.errors += 1,
                Severity::Warning => counts.warnings += 1,
                Severity::Note => counts.notes += 1,
            }
            match d.rule.as_str() {
                POLICY_ERROR => counts.policy_errors += 1,
                INPUT_LIMIT => counts.input_limits += 1,
                _ => {}
            }
        }
        counts
    }
}

/// What a summary line counts besides the findings.
#[derive(Debug, Default)]
pub struct Totals {
    pub files: usize,
    pub skipped_files: usize,
    pub unread: usize,
}

impl Totals {
    pub fn of(report: &Report<'_>) -> Totals {
        Totals {
            files: report.files_scanned,
            skipped_files: report.skipped_files,
            unread: report.unread.len(),
        }
    }
}

/// `4 errors, 0 warnings, 1 note in 3 files`, or `no findings in 3 files`,
/// followed by what was not fully checked, named only when there is some:
/// ` (1 skipped, 2 documents not read, 2 policy errors)`.
pub(crate) fn summary_line(diagnostics: &[Diagnostic], totals: &Totals) -> String {
    let counts = Counts::of(diagnostics);
    let files = totals.files;
    let incomplete: Vec<String> = [
        (totals.skipped_files, "skipped", "skipped"),
        (totals.unread, "document not read", "documents not read"),
        (counts.policy_errors, "policy error", "policy errors"),
        (counts.input_limits, "input over a limit", "inputs over a limit"),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect();
    let incomplete = if incomplete.is_empty() {
        String::new()
    } else {
        format!(" ({})", incomplete.join(", "))
    };
    if diagnostics.is_empty() {
        format!("no findings in {files} {}{incomplete}", plural(files, "file"))
    } else {
        format!(
            "{} {}, {} {}, {} {} in {files} {}{incomplete}",
            counts.errors,
            plural(counts.errors, "error"),
            counts.warnings,
            plural(counts.warnings, "warning"),
            counts.notes,
            plural(counts.notes, "note"),
            plural(files, "file")
        )
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

/// `n` and the noun that goes with it: `1 error`, `4 errors`, `1 policy`.
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Scanned text echoed to a terminal must not carry control characters
/// (escape sequences, a carriage return that overwrites the line) nor
/// bidirectional overrides (which reorder what the reader sees): each
/// becomes U+FFFD, one character for one, so columns stay right.
pub fn strip_controls(text: &str) -> String {
    text.chars()
        .map(|c| if is_hidden_control(c) { '\u{FFFD}' } else { c })
        .collect()
}

pub(crate) fn is_hidden_control(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
