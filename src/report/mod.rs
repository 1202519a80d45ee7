//! Report: renders sorted diagnostics in one output format. Reads
//! `diagnostic`, `source` and policy metadata; writes to the `io::Write` it
//! is given and never prints.

mod human;
mod json;

pub use human::{Style, render_human};
pub use json::render_json;

use crate::diagnostic::{Diagnostic, INPUT_LIMIT, POLICY_ERROR, Severity};
use crate::source::{SourceMap, Span};

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
