//! The human format: a miette report with colours and source snippets on a
//! terminal; plain text otherwise, one block per finding, starting with
//! `file:line:col: severity[rule]: message`.

use super::{Totals, is_hidden_control, position, strip_controls, summary_line};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceFile, SourceId, SourceMap, Span};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// miette's graphical report, in colour.
    Graphical,
    /// No colour and no graphics: stable text for logs, pipes and tests.
    Plain,
}

/// A line longer than this is shown as a window around the span: a finding
/// on a line of 40 KB prints a few hundred bytes, not the line.
const LONG_LINE_BYTES: usize = 240;
/// What a window shows on each side of its span.
const WINDOW_CONTEXT_BYTES: usize = 60;
/// Of a long span on a long line, what a window shows.
const WINDOW_SPAN_BYTES: usize = 120;

pub fn render_human(
    out: &mut dyn Write,
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    totals: &Totals,
    style: Style,
) -> io::Result<()> {
    let mut shown = ShownTexts::default();
    for diagnostic in diagnostics {
        match style {
            Style::Plain => plain(out, diagnostic, sources)?,
            Style::Graphical => graphical(out, diagnostic, sources, &mut shown)?,
        }
    }
    writeln!(out, "{}", summary_line(diagnostics, totals))
}

/// What of `line` a snippet of `focus` shows: the whole line when it is
/// short, else a window around the start of `focus`, on character
/// boundaries.
fn window(file: &SourceFile, line: Span, focus: Span) -> Span {
    if line.end - line.start <= LONG_LINE_BYTES {
        return line;
    }
    let from = focus.start.clamp(line.start, line.end);
    let to = focus.end.clamp(from, line.end).min(from + WINDOW_SPAN_BYTES);
    file.clamp(Span::new(
        from.saturating_sub(WINDOW_CONTEXT_BYTES).max(line.start),
        (to + WINDOW_CONTEXT_BYTES).min(line.end),
    ))
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
        let line = file.line_range(at.line);
        let focus = file.clamp(d.location.span);
        let shown = window(file, line, focus);
        let slice = |from: usize, to: usize| file.text.get(from..to).unwrap_or("");
        if shown.end > shown.start {
            let ellipsis = |cut: bool| if cut { "…" } else { "" };
            let text = format!(
                "{}{}{}",
                ellipsis(shown.start > line.start),
                strip_controls(slice(shown.start, shown.end)),
                ellipsis(shown.end < line.end)
            );
            // A span that goes on past the line is marked to its end.
            let from = focus.start.clamp(shown.start, shown.end);
            let to = focus.end.clamp(from, shown.end);
            let width = slice(from, to).chars().count().max(1);
            // Tabs before the caret stay tabs, so it lines up under the text.
            let indent: String = ellipsis(shown.start > line.start)
                .chars()
                .chain(slice(shown.start, from).chars())
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let gutter = at.line.to_string().len();
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
struct Adapter<'a> {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: Option<Snippet<'a>>,
    labels: Vec<LabeledSpan>,
    others: Vec<Adapter<'a>>,
}

impl fmt::Display for Adapter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Adapter<'_> {}

impl miette::Diagnostic for Adapter<'_> {
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
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(self.others.iter().map(|o| o as &dyn miette::Diagnostic)))
    }
}

/// Each file's text as miette shows it ([`snippet_text`]), made once per
/// file however many findings it has.
#[derive(Default)]
struct ShownTexts(BTreeMap<SourceId, Arc<str>>);

impl ShownTexts {
    fn of(&mut self, file: &SourceFile, id: SourceId) -> Arc<str> {
        self.0
            .entry(id)
            .or_insert_with(|| Arc::from(snippet_text(&file.text)))
            .clone()
    }
}

/// A file as miette reads it: the lines around a span, found through the
/// file's line index rather than by a scan from its start, and on a long
/// line only a window around the span.
struct Snippet<'a> {
    name: String,
    file: &'a SourceFile,
    shown: Arc<str>,
}

impl Snippet<'_> {
    fn is_long(&self, line: usize) -> bool {
        let range = self.file.line_range(line);
        range.end - range.start > LONG_LINE_BYTES
    }
}

impl fmt::Debug for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snippet")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SourceCode for Snippet<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let focus = self.file.clamp(Span::new(span.offset(), span.offset() + span.len()));
        let first = self.file.line_of(focus.start);
        let last = self.file.line_of(focus.end.saturating_sub(1).max(focus.start));
        let data = if self.is_long(first) {
            let line = self.file.line_range(first);
            (first, first, window(self.file, line, focus))
        } else {
            // Context lines are shown only when short.
            let mut from = first;
            while from > 1 && first - from < context_lines_before && !self.is_long(from - 1) {
                from -= 1;
            }
            let mut to = last;
            let lines = self.file.line_count();
            while to < lines && to - last < context_lines_after && !self.is_long(to + 1) {
                to += 1;
            }
            // With the last line's break, as miette's own reading has it: a
            // label on the break is drawn.
            let end = if to < lines {
                self.file.line_range(to + 1).start
            } else {
                self.file.text.len()
            };
            (from, to, Span::new(self.file.line_range(from).start, end))
        };
        let (from, to, range) = data;
        let bytes = self.shown.as_bytes().get(range.start..range.end).unwrap_or_default();
        // miette counts the column of the span's start in bytes.
        let column = focus.start.saturating_sub(self.file.line_range(first).start);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            bytes,
            SourceSpan::from(range.start..range.end),
            from - 1,
            column,
            to - from + 1,
        )))
    }
}

fn graphical(out: &mut dyn Write, d: &Diagnostic, sources: &SourceMap, shown: &mut ShownTexts) -> io::Result<()> {
    let mut snippet = |id| {
        sources.get(id).map(|file| Snippet {
            name: strip_controls(&file.name),
            file,
            shown: shown.of(file, id),
        })
    };
    // On a long line, a label covers no more than the window shows; a span
    // that goes on into a long line is marked to the end of its first line.
    // miette reads each context as one stretch of text, so a label on a long
    // line is drawn alone, as a related report of its own.
    let long = |file: &SourceFile, line: usize| {
        let range = file.line_range(line);
        range.end - range.start > LONG_LINE_BYTES
    };
    let place = |location: &crate::diagnostic::Location| {
        let Some(file) = sources.get(location.source) else {
            return (SourceSpan::from(0..0), false);
        };
        let span = file.clamp(location.span);
        let first = file.line_of(span.start);
        let line = file.line_range(first);
        let last = file.line_of(span.end.saturating_sub(1).max(span.start));
        let on_long_line = long(file, first);
        let span = if on_long_line {
            let end = span
                .end
                .min(span.start + WINDOW_SPAN_BYTES)
                .min(line.end.max(span.start));
            file.clamp(Span::new(span.start, end))
        } else if (first + 1..=last).any(|at| long(file, at)) {
            Span::new(span.start, line.end.max(span.start))
        } else {
            span
        };
        (SourceSpan::from(span.start..span.end), on_long_line)
    };
    let at = position(sources, &d.location);
    let (primary, primary_long) = place(&d.location);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(format!("{}:{}", at.line, at.column)),
        primary,
    )];
    let mut others = Vec::new();
    for related in &d.related {
        let (span, related_long) = place(&related.location);
        if related.location.source == d.location.source && !primary_long && !related_long {
            labels.push(LabeledSpan::new_with_span(Some(strip_controls(&related.message)), span));
        } else {
            others.push(Adapter {
                message: strip_controls(&related.message),
                code: "related".into(),
                severity: Severity::Note,
                help: None,
                source: snippet(related.location.source),
                labels: vec![LabeledSpan::new_primary_with_span(None, span)],
                others: Vec::new(),
            });
        }
    }
    let adapter = Adapter {
        message: strip_controls(&d.message),
        code: d.rule.to_string(),
        severity: d.severity,
        help: d.help.as_deref().map(strip_controls),
        source: snippet(d.location.source),
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
    use crate::diagnostic::Location;
    use miette::NamedSource;

    fn one_file(text: &str) -> (SourceMap, SourceId) {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new("c.yaml".into(), "c.yaml".into(), Arc::from(text)));
        (sources, id)
    }

    fn at(source: SourceId, start: usize, end: usize) -> Location {
        Location {
            source,
            span: Span::new(start, end),
        }
    }

    fn rendered(diagnostics: &[Diagnostic], sources: &SourceMap, style: Style) -> String {
        let mut out = Vec::new();
        render_human(&mut out, diagnostics, sources, &Totals::default(), style).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What miette draws from the whole text, as planelint drew it before
    /// it read files through their line index.
    fn drawn_from_the_whole_text(d: &Diagnostic, sources: &SourceMap) -> String {
        let file = sources.get(d.location.source).unwrap();
        let span = |l: &Location| SourceSpan::from(l.span.start..l.span.end);
        let at = position(sources, &d.location);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(format!("{}:{}", at.line, at.column)),
            span(&d.location),
        )];
        labels.extend(
            d.related
                .iter()
                .map(|r| LabeledSpan::new_with_span(Some(r.message.clone()), span(&r.location))),
        );
        let report = miette::MietteDiagnostic::new(d.message.clone())
            .with_code(d.rule.to_string())
            .with_severity(miette::Severity::Error)
            .with_labels(labels);
        let report = miette::Report::new(report).with_source_code(NamedSource::new("c.yaml", file.text.to_string()));
        let mut text = String::new();
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode())
            .render_report(&mut text, report.as_ref())
            .unwrap();
        format!("{text}\n")
    }

    #[test]
    fn graphical_snippets_of_short_lines_are_drawn_as_from_the_whole_text() {
        let text = "apiVersion: planelint/v1\nkind: Cluster\nmetadata:\n  name: c1\nspec:\n  pool: p\n  region: |\n    a\n    b\n";
        let (sources, id) = one_file(text);
        let spans = [
            (24, 24),
            (0, 10),
            (51, 58),
            (62, 63),
            (71, 89),
            (88, 88),
            (text.len(), text.len()),
        ];
        for (start, end) in spans {
            let d = Diagnostic::error("r", "m", at(id, start, end)).with_related(at(id, 40, 44), "there");
            let ours = rendered(std::slice::from_ref(&d), &sources, Style::Graphical);
            let summary = summary_line(std::slice::from_ref(&d), &Totals::default());
            assert_eq!(
                ours,
                format!("{}{summary}\n", drawn_from_the_whole_text(&d, &sources)),
                "{start}..{end}"
            );
        }
    }

    #[test]
    fn labels_beside_a_long_line_are_all_drawn_and_the_line_stays_windowed() {
        let long = "x".repeat(300);
        let text = format!("a: 1\n{long}\nb: 2\n");
        let (sources, id) = one_file(&text);
        let long_start = 5;
        let cases = [
            // Primary on the long line, related on the short line after it.
            Diagnostic::error("r", "m", at(id, long_start + 10, long_start + 12))
                .with_related(at(id, long_start + 301, long_start + 302), "there"),
            // A span from a short line into the long one.
            Diagnostic::error("r", "m", at(id, 0, long_start + 200)).with_related(at(id, 3, 4), "there"),
            // Zero width at the end of the short line before the long one.
            Diagnostic::error("r", "m", at(id, 4, 4)).with_related(at(id, long_start + 301, long_start + 301), "there"),
        ];
        for d in cases {
            let drawn = rendered(std::slice::from_ref(&d), &sources, Style::Graphical);
            assert!(drawn.contains("there"), "{drawn}");
            assert!(drawn.contains('▲') || drawn.contains('┬'), "{drawn}");
            assert!(!drawn.contains(&long), "the long line is windowed: {drawn}");
        }
    }

    #[test]
    fn a_finding_on_a_long_line_shows_a_window_around_its_span() {
        let value = "x".repeat(40_000);
        let text = format!("a: [{value}, target, {value}]\nb: 1\n");
        let (sources, id) = one_file(&text);
        let start = text.find("target").unwrap();
        let findings: Vec<Diagnostic> = (0..100)
            .map(|_| Diagnostic::error("r", "m", at(id, start, start + 6)))
            .collect();
        let plain = rendered(&findings, &sources, Style::Plain);
        let window = format!("…{}, target, {}…", "x".repeat(58), "x".repeat(58));
        let first = plain.split("\n\n").next().unwrap();
        assert_eq!(
            first,
            format!(
                "c.yaml:1:40007: error[r]: m\n1 | {window}\n  | {}^^^^^^",
                " ".repeat(61)
            )
        );
        assert!(plain.len() < 100 * 300, "{} bytes for 100 findings", plain.len());
        let graphical = rendered(&findings, &sources, Style::Graphical);
        assert!(
            graphical.len() < 100 * 1_000,
            "{} bytes for 100 findings",
            graphical.len()
        );
        assert!(graphical.contains("c.yaml:1:40007"), "{graphical}");
        assert!(graphical.contains(&format!("{}, target, {}", "x".repeat(58), "x".repeat(58))));
    }

    #[test]
    fn snippet_text_keeps_byte_offsets() {
        let text = "a\x1b[2Jb\rc\r\nd\u{202E}e\u{85}";
        let shown = snippet_text(text);
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown, "a?[2Jb\nc\r\nd???e??");
    }
}
