//! Report: renders sorted diagnostics in one output format. Reads
//! `diagnostic`, `source` and policy metadata; writes to the `io::Write` it
//! is given and never prints.

mod human;
mod json;

pub use human::{Style, render_human};
pub use json::render_json;

use crate::diagnostic::{Diagnostic, Severity};
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

/// Counts per severity.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
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
        }
        counts
    }
}

/// Scanned text echoed to a terminal must not carry control characters.
pub(crate) fn strip_controls(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c })
        .collect()
}
