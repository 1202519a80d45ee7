//! The human format: a miette report with colours and source snippets on a
//! terminal; plain text otherwise, one block per finding, starting with
//! `file:line:col: severity[rule]: message`.

use super::{Totals, is_hidden_control, position, strip_controls, summary_line};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceMap;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// miette's graphical report, in colour.
    Graphical,
    /// No colour and no graphics: stable text for logs, pipes and tests.
    Plain,
}

pub fn render_human(
    out: &mut dyn Write,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    totals: &Totals,
    style: Style,
) -> io::Result<()> {
    for diagnostic in diagnostics {
        match style {
            Style::Plain => plain(out, diagnostic, sources)?,
            Style::Graphical => graphical(out, diagnostic, sources)?,
        }
    }
    writeln!(out, "{}", summary_line(diagnostics, totals))
}

fn plain(out: &mut dyn Write, d: &Diagnostic, sources: &SourceMap) -> io::Result<()> {
    let at = position(sources, &d.location);
    writeln!(
        out,
        "{}:{}:{}: {}[{}]: {}",
        strip_controls(at.file),
        at.line,
        at.column,
        d.severity,
        d.rule,
        strip_controls(&d.message)
    )?;
    if let Some(file) = sources.get(d.location.source) {
        let text = strip_controls(file.line_text(at.line));
        if !text.is_empty() {
            let gutter = at.line.to_string().len();
            let end_column = if at.end_line == at.line {
                at.end_column
            } else {
                text.chars().count() + 1
            };
            let width = end_column.saturating_sub(at.column).max(1);
            // Tabs before the caret stay tabs, so it lines up under the text.
            let indent: String = text
                .chars()
                .chain(std::iter::repeat(' '))
                .take(at.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(out, "{:>gutter$} | {text}", at.line)?;
            writeln!(out, "{:>gutter$} | {indent}{}", "", "^".repeat(width))?;
        }
    }
    for related in &d.related {
        let r = position(sources, &related.location);
        writeln!(
            out,
            "  = related: {}:{}:{}: {}",
            strip_controls(r.file),
            r.line,
            r.column,
            strip_controls(&related.message)
        )?;
    }
    if let Some(help) = &d.help {
        writeln!(out, "  = help: {}", strip_controls(help))?;
    }
    writeln!(out)
}

/// A diagnostic as miette sees it: labels in its own file; related spans in
/// other files become related reports of their own.
#[derive(Debug)]
struct Adapter {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    others: Vec<Adapter>,
}

impl fmt::Display for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Adapter {}

impl miette::Diagnostic for Adapter {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(self.others.iter().map(|o| o as &dyn miette::Diagnostic)))
    }
}

fn graphical(out: &mut dyn Write, d: &Diagnostic, sources: &SourceMap) -> io::Result<()> {
    let named = |id| {
        let file = sources.get(id);
        NamedSource::new(
            strip_controls(file.map_or("", |f| f.name.as_str())),
            file.map_or(String::new(), |f| snippet_text(&f.text)),
        )
    };
    let span_of = |location: &crate::diagnostic::Location| {
        let span = sources
            .get(location.source)
            .map(|f| f.clamp(location.span))
            .unwrap_or_default();
        SourceSpan::from(span.start..span.end)
    };
    let at = position(sources, &d.location);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(format!("{}:{}", at.line, at.column)),
        span_of(&d.location),
    )];
    let mut others = Vec::new();
    for related in &d.related {
        if related.location.source == d.location.source {
            labels.push(LabeledSpan::new_with_span(
                Some(strip_controls(&related.message)),
                span_of(&related.location),
            ));
        } else {
            others.push(Adapter {
                message: strip_controls(&related.message),
                code: "related".into(),
                severity: Severity::Note,
                help: None,
                source: named(related.location.source),
                labels: vec![LabeledSpan::new_primary_with_span(None, span_of(&related.location))],
                others: Vec::new(),
            });
        }
    }
    let adapter = Adapter {
        message: strip_controls(&d.message),
        code: d.rule.to_string(),
        severity: d.severity,
        help: d.help.as_deref().map(strip_controls),
        source: named(d.location.source),
        labels,
        others,
    };
    let mut text = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode())
        .render_report(&mut text, &adapter)
        .map_err(|_| io::Error::other("could not render a report"))?;
    writeln!(out, "{text}")
}

/// The text miette shows in snippets, with the same byte length (spans stay
/// valid): a lone carriage return becomes the line break it is, other control
/// characters and bidirectional overrides become `?`, one per byte.
fn snippet_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            '\r' => out.push('\n'),
            c if is_hidden_control(c) => {
                out.extend(std::iter::repeat_n('?', c.len_utf8()));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_text_keeps_byte_offsets() {
        let text = "a\x1b[2Jb\rc\r\nd\u{202E}e\u{85}";
        let shown = snippet_text(text);
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown, "a?[2Jb\nc\r\nd???e??");
    }
}
