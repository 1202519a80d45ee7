//! Load: YAML text -> a tree of nodes that each carry their byte span, built
//! from `saphyr-parser` events. Anchors, aliases and merge keys are resolved
//! here, under limits on nesting depth, alias expansion and document count.
//! Imports `source` and `diagnostic`.

pub mod embedded;

use crate::diagnostic::{Diagnostic, INPUT_LIMIT, Location, YAML_SYNTAX};
use crate::source::{CharToByte, SourceId, Span};
use rustc_hash::FxHashMap;
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::sync::Arc;

/// Whether `alias_nodes` expanded among `written` nodes is more aliasing
/// than go-yaml v3 accepts: up to 99% of all nodes decoded in a file of at
/// most 400,000, down to 10% at 4,000,000 and beyond.
fn excessive_aliasing(alias_nodes: usize, written: usize) -> bool {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let total = alias_nodes.saturating_add(written) as f64;
    let allowed = if total <= LOW {
        0.99
    } else if total >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * (total - LOW) / (HIGH - LOW)
    };
    alias_nodes as f64 / total > allowed
}

/// Limits that keep hostile input from exhausting the stack or memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Nodes that aliases may add to one file, all expansions together,
    /// before the share of the file they make is looked at: past it, they
    /// may make at most the share go-yaml (Helm, kubectl) allows, so that
    /// merge keys in every row of a large table pass and a billion laughs
    /// does not.
    pub max_alias_nodes: usize,
    /// Documents in one file.
    pub max_documents: usize,
    /// Nodes written in one file (aliases apart). A node costs far more
    /// memory than its text: without this, the file-size limit alone would
    /// let one file of `- a` lines take gigabytes.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
            max_documents: 100_000,
            max_nodes: 5_000_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar {
        value: Arc<str>,
        style: Style,
        tag: Option<Arc<str>>,
    },
    Sequence(Vec<Node>),
    Mapping(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

/// What a scalar means under the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(&'a str),
}

impl Node {
    /// The scalar's meaning: quoted and block scalars are strings, plain ones
    /// are resolved by the core schema (`!!str` forces a string).
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        let NodeKind::Scalar { value, style, tag } = &self.kind else {
            return None;
        };
        if *style != Style::Plain || tag.as_deref() == Some("tag:yaml.org,2002:str") {
            return Some(Scalar::String(value));
        }
        Some(resolve_plain(value))
    }

    /// The node as a string, if it is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match self.scalar()? {
            Scalar::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// The value of the entry whose key is the string `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_mapping()?.iter().find(|e| e.key.as_str() == Some(key))
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
            NodeKind::Scalar { .. } => match self.scalar() {
                Some(Scalar::Null) => "null",
                Some(Scalar::Bool(_)) => "a boolean",
                Some(Scalar::Int(_)) => "an integer",
                Some(Scalar::Float(_)) => "a number",
                _ => "a string",
            },
        }
    }
}

/// A plain scalar's meaning under the core schema.
fn resolve_plain(value: &str) -> Scalar<'_> {
    // Null, booleans and numbers start with one of these: most plain
    // scalars (names, ids) are strings at the first byte.
    let may_not_be_a_string = |b| {
        matches!(
            b,
            b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'0'..=b'9' | b'+' | b'-' | b'.'
        )
    };
    if !value.bytes().next().is_none_or(may_not_be_a_string) {
        return Scalar::String(value);
    }
    resolve_plain_fully(value)
}

fn resolve_plain_fully(value: &str) -> Scalar<'_> {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        "true" | "True" | "TRUE" => Scalar::Bool(true),
        "false" | "False" | "FALSE" => Scalar::Bool(false),
        v => {
            if let Some(i) = parse_int(v) {
                Scalar::Int(i)
            } else if let Some(f) = parse_float(v) {
                Scalar::Float(f)
            } else {
                Scalar::String(v)
            }
        }
    }
}

fn parse_int(v: &str) -> Option<i64> {
    let (sign, digits) = match v.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, v.strip_prefix('+').unwrap_or(v)),
    };
    let parsed = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    parsed.checked_mul(sign)
}

fn parse_float(v: &str) -> Option<f64> {
    match v {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    let looks_numeric = body.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && body.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric { v.parse().ok() } else { None }
}

/// One YAML document of a file; `root` is `None` for an empty document.
#[derive(Debug)]
pub struct Document {
    pub root: Option<Node>,
}

/// The documents of a file, and the diagnostics found while loading it. The
/// documents completed before a syntax error are kept.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The size of a finished node: how many nodes it holds (itself included)
/// and how many levels of nesting it spans (0 for a scalar). Kept while
/// building, so that an alias is measured without walking it.
#[derive(Clone, Copy, Debug, Default)]
struct Size {
    nodes: usize,
    height: usize,
}

impl Size {
    const SCALAR: Size = Size { nodes: 1, height: 0 };
    const CONTAINER: Size = Size { nodes: 1, height: 1 };

    /// Adds a child to a container's size.
    fn add(&mut self, child: Size) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.height = self.height.max(child.height.saturating_add(1));
    }
}

enum Frame {
    Sequence {
        start: usize,
        anchor: usize,
        size: Size,
        items: Vec<Node>,
    },
    Mapping {
        start: usize,
        anchor: usize,
        size: Size,
        entries: Vec<Entry>,
        keys: KeyIndex,
        pending_key: Option<Node>,
    },
}

struct Builder<'a> {
    text: &'a str,
    quoted_values: &'a FxHashMap<usize, Arc<str>>,
    source: SourceId,
    limits: Limits,
    offsets: CharToByte<'a>,
    stack: Vec<Frame>,
    anchors: FxHashMap<usize, (Node, Size)>,
    alias_nodes: usize,
    nodes: usize,
    out: Loaded,
}

/// Why building stopped early.
enum Stop {
    Syntax,
    Limit,
}

/// How many times its own length the reparses of one file may read in all
/// (see [`Relaxed`]): each relaxation costs a parse of the whole text. A
/// generated manifest of CRDs has a hundred long descriptions wrapped the
/// way Helm accepts; the work stays proportional to the repo's size.
const RELAXATION_REPARSES: usize = 128;

/// And at most this much text, however large the file.
const RELAXATION_BUDGET_BYTES: usize = 128 << 20;

/// How many relaxations a text of `len` bytes may have within `budget`
/// bytes of reparsing: at least one.
fn relaxations_allowed(len: usize, budget: usize) -> usize {
    (budget / len.max(1)).max(1)
}

/// Loads `text`, a file's. See [`load_within`].
pub fn load(text: &str, source: SourceId, limits: Limits) -> Loaded {
    let budget = text
        .len()
        .saturating_mul(RELAXATION_REPARSES)
        .min(RELAXATION_BUDGET_BYTES);
    load_within(text, source, limits, budget)
}

/// Loads `text`, relaxing it within `budget` bytes of reparsing. YAML text
/// inside a file's scalars gets a budget of a few times its own length, so
/// that a file of many such texts costs a few parses of the file.
pub fn load_within(text: &str, source: SourceId, limits: Limits, budget: usize) -> Loaded {
    // The parser lets some characters YAML forbids through (C0 controls in
    // places, DEL, C1): a binary file with a `.yaml` name must not pass as
    // a string. It is rejected whole, at its first such character.
    if let Some((at, c)) = first_unprintable(text) {
        let mut out = Loaded::default();
        out.diagnostics.push(Diagnostic::error(
            YAML_SYNTAX,
            format!(
                "invalid YAML: found the unprintable character U+{:04X}; the file was not checked",
                u32::from(c)
            ),
            Location {
                source,
                span: Span::new(at, at + c.len_utf8()),
            },
        ));
        return out;
    }
    let mut relaxed = Relaxed::default();
    let allowed = relaxations_allowed(text.len(), budget);
    loop {
        let patched = relaxed.text.as_deref().unwrap_or(text);
        let (mut out, error) = parse(patched, &relaxed.values, source, limits);
        let Some((at, info)) = error else {
            return out;
        };
        if relaxed.count < allowed && relaxed.relax(text, at, &info) {
            continue;
        }
        let (message, span) = match conflict_marker(text) {
            Some((marker, span)) => (
                format!("invalid YAML: unresolved merge conflict (`{marker}` marker); the file was not checked"),
                span,
            ),
            None => (format!("invalid YAML: {info}"), token_at(text, at)),
        };
        out.diagnostics
            .push(Diagnostic::error(YAML_SYNTAX, message, Location { source, span }));
        return out;
    }
}

/// What libyaml and go-yaml (so Helm and kubectl) accept and saphyr does not,
/// made acceptable to saphyr without moving a byte: every span found in the
/// relaxed text is a span of the original.
#[derive(Default)]
struct Relaxed {
    /// The text with its relaxations, once there is one.
    text: Option<String>,
    /// The value of each quoted scalar that was rewritten, by the byte of its
    /// opening quote.
    values: FxHashMap<usize, Arc<str>>,
    count: usize,
}

impl Relaxed {
    /// Relaxes what the parser stopped at in the text relaxed so far (of
    /// `original`), if libyaml accepts it there.
    fn relax(&mut self, original: &str, at: usize, info: &str) -> bool {
        let mut patched = self.text.take().unwrap_or_else(|| original.to_string());
        let relaxed = if info.contains("comments must be separated from other tokens") {
            // libyaml starts a comment at `#` after any token but a plain
            // scalar (`key: ""# note`): blank the comment out.
            blank_comment(&mut patched, at)
        } else if info.contains("invalid indentation in quoted scalar") {
            // libyaml does not check the indentation of a quoted scalar's
            // continuation lines, which folding strips anyway.
            self.flatten_quoted(&mut patched, at)
        } else {
            false
        };
        self.count += usize::from(relaxed);
        self.text = Some(patched);
        relaxed
    }

    /// Replaces the multi-line quoted scalar that opens at `at` by a
    /// one-line scalar of the same length, and keeps the value libyaml
    /// gives it: its lines folded, whatever their indentation.
    fn flatten_quoted(&mut self, text: &mut String, at: usize) -> bool {
        let Some(quote) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            return false;
        };
        if quote != '"' && quote != '\'' {
            return false;
        }
        let Some(end) = quoted_end(text, at) else {
            return false;
        };
        let Some(scalar) = text.get(at..end) else {
            return false;
        };
        // The same scalar with every continuation line indented by one
        // space, read on its own.
        let mut lines = scalar.split('\n');
        let mut reindented = lines.next().unwrap_or_default().to_string();
        for line in lines {
            reindented.push_str("\n ");
            reindented.push_str(line.trim_start_matches([' ', '\t']));
        }
        let mut parser = Parser::new_from_str(&reindented);
        let value = std::iter::from_fn(|| parser.next_event()).find_map(|event| match event {
            Ok((Event::Scalar(value, ..), _)) => Some(Ok(Arc::<str>::from(value.as_ref()))),
            Ok(_) => None,
            Err(_) => Some(Err(())),
        });
        let Some(Ok(value)) = value else {
            return false;
        };
        let blank = format!("{quote}{}{quote}", " ".repeat(end - at - 2));
        text.replace_range(at..end, &blank);
        self.values.insert(at, value);
        true
    }
}

/// Blanks the comment that starts at `at` out, up to the end of its line.
fn blank_comment(text: &mut String, at: usize) -> bool {
    if text.as_bytes().get(at) != Some(&b'#') {
        return false;
    }
    let end = text
        .get(at..)
        .and_then(|rest| rest.find(['\n', '\r']))
        .map_or(text.len(), |n| at + n);
    let blank = " ".repeat(end - at);
    text.replace_range(at..end, &blank);
    true
}

/// The first merge-conflict marker of `text`, if any, and where it is.
fn conflict_marker(text: &str) -> Option<(&'static str, Span)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let marker = match content.get(..7) {
            Some("<<<<<<<") if matches!(content.as_bytes().get(7), None | Some(b' ')) => Some("<<<<<<<"),
            Some(">>>>>>>") if matches!(content.as_bytes().get(7), None | Some(b' ')) => Some(">>>>>>>"),
            Some("=======") if content.len() == 7 => Some("======="),
            _ => None,
        };
        if let Some(marker) = marker {
            return Some((marker, Span::new(offset, offset + 7)));
        }
        offset += line.len();
    }
    None
}

/// The token the parser stopped at: at least one character, on the line
/// the parser names. At the end of a line or of the file, the last character
/// of content before it (a comment is not what is wrong).
fn token_at(text: &str, at: usize) -> Span {
    let at = at.min(text.len());
    let rest = text.get(at..).unwrap_or_default();
    match rest.chars().next() {
        Some(c) if c != '\n' && c != '\r' => {
            let end = if c == '"' || c == '\'' {
                quoted_end(text, at).filter(|end| text.get(at..*end).is_some_and(|quoted| !quoted.contains('\n')))
            } else {
                None
            }
            .unwrap_or_else(|| at + rest.find(char::is_whitespace).unwrap_or(rest.len()));
            Span::new(at, end.max(at + c.len_utf8()))
        }
        _ => last_content_before(text, at).unwrap_or(Span::new(at, at)),
    }
}

/// The last character before `at` that is neither blank nor in a comment.
fn last_content_before(text: &str, at: usize) -> Option<Span> {
    let before = text.get(..at)?;
    let mut line_end = before.len();
    loop {
        let line_start = before.get(..line_end)?.rfind('\n').map_or(0, |n| n + 1);
        let line = before.get(line_start..line_end)?;
        let content = line
            .get(..comment_start(line).unwrap_or(line.len()))
            .unwrap_or(line)
            .trim_end();
        if let Some(c) = content.chars().next_back() {
            let end = line_start + content.len();
            return Some(Span::new(end - c.len_utf8(), end));
        }
        if line_start == 0 {
            return None;
        }
        line_end = line_start - 1;
    }
}

/// The byte offset of the `#` that starts a comment on `line`: at the start
/// or after whitespace, and not inside a quoted string.
pub fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            // `''` is a quote inside a single-quoted string.
            (Some('\''), '\'') if chars.peek().is_some_and(|&(_, next)| next == '\'') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if previous.is_whitespace() || matches!(previous, ':' | '[' | '{' | ',' | '-') => {
                quote = Some(c);
            }
            (None, '#') if previous.is_whitespace() => return Some(i),
            _ => {}
        }
        previous = c;
    }
    None
}

/// Parses `text` into documents. A syntax error the parser stops at is
/// returned (where, and the parser's words), not reported: it may be one
/// that [`Relaxed`] takes away.
fn parse(
    text: &str,
    quoted_values: &FxHashMap<usize, Arc<str>>,
    source: SourceId,
    limits: Limits,
) -> (Loaded, Option<(usize, String)>) {
    let mut builder = Builder {
        text,
        quoted_values,
        source,
        limits,
        offsets: CharToByte::new(text),
        stack: Vec::new(),
        anchors: FxHashMap::default(),
        alias_nodes: 0,
        nodes: 0,
        out: Loaded::default(),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let step = match event {
            Ok((event, span)) => {
                let start = builder.offsets.byte_offset(span.start.index());
                let end = builder.offsets.byte_offset(span.end.index());
                builder.event(event, Span::new(start, end))
            }
            Err(error) => {
                let mut at = builder.offsets.byte_offset(error.marker().index());
                // The scanner reports a tab after reading it: point at the tabs.
                let mut words = error.info().split(|c: char| !c.is_ascii_alphabetic());
                if words.any(|w| w == "tab" || w == "tabs") {
                    let before = text.get(..at).unwrap_or("");
                    at = before.trim_end_matches('\t').len();
                }
                // The scanner bounds flow nesting itself; that is a limit, not a syntax error.
                if error.info().contains("recursion limit") {
                    let message = "nesting too deep for the YAML parser; the rest of the file was not checked";
                    builder.report(INPUT_LIMIT, message.into(), token_at(text, at));
                    return (builder.out, None);
                }
                return (builder.out, Some((at, error.info().to_string())));
            }
        };
        if step.is_err() {
            break;
        }
    }
    (builder.out, None)
}

impl Builder<'_> {
    fn report(&mut self, rule: &str, message: String, span: Span) {
        let location = Location {
            source: self.source,
            span,
        };
        self.out.diagnostics.push(Diagnostic::error(rule, message, location));
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Stop> {
        if matches!(
            event,
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
        ) {
            self.nodes += 1;
            if self.nodes > self.limits.max_nodes {
                self.report(
                    INPUT_LIMIT,
                    format!(
                        "more than {} nodes in one file; the rest of the file was not checked",
                        self.limits.max_nodes
                    ),
                    span,
                );
                return Err(Stop::Limit);
            }
        }
        match event {
            Event::DocumentStart(_) => {
                if self.out.documents.len() >= self.limits.max_documents {
                    self.report(
                        INPUT_LIMIT,
                        format!(
                            "more than {} documents in one file; the rest were not checked",
                            self.limits.max_documents
                        ),
                        span,
                    );
                    return Err(Stop::Limit);
                }
                self.anchors.clear();
                self.out.documents.push(Document { root: None });
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
                };
                let tag = tag.map(|t| Arc::from(format!("{}{}", expand_handle(&t.handle), t.suffix)));
                // The parser ends a quoted scalar's span after the blanks and
                // comment that follow it: end it at its closing quote.
                let span = match style {
                    Style::Quoted => Span::new(
                        span.start,
                        quoted_end(self.text, span.start).unwrap_or(span.end).min(span.end),
                    ),
                    Style::Block => block_span(self.text, span).unwrap_or(span),
                    Style::Plain => span,
                };
                let relaxed_value = match style {
                    Style::Quoted if !self.quoted_values.is_empty() => self
                        .text
                        .get(span.start..)
                        .and_then(|rest| rest.find(['\'', '"']))
                        .and_then(|open| self.quoted_values.get(&(span.start + open))),
                    _ => None,
                };
                let node = Node {
                    span,
                    kind: NodeKind::Scalar {
                        value: relaxed_value.cloned().unwrap_or_else(|| Arc::from(value.as_ref())),
                        style,
                        tag,
                    },
                };
                self.complete(node, anchor, Size::SCALAR);
            }
            Event::SequenceStart(anchor, _) => {
                self.open(span)?;
                self.stack.push(Frame::Sequence {
                    start: span.start,
                    anchor,
                    size: Size::CONTAINER,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                self.open(span)?;
                self.stack.push(Frame::Mapping {
                    start: span.start,
                    anchor,
                    size: Size::CONTAINER,
                    entries: Vec::new(),
                    keys: KeyIndex::default(),
                    pending_key: None,
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Sequence {
                    start,
                    anchor,
                    size,
                    items,
                }) = self.stack.pop()
                {
                    let node = Node {
                        span: Span::new(start, span.end),
                        kind: NodeKind::Sequence(items),
                    };
                    self.complete(node, anchor, size);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Mapping {
                    start,
                    anchor,
                    size,
                    entries,
                    keys,
                    ..
                }) = self.stack.pop()
                {
                    let entries = self.merge_keys(entries, keys);
                    let node = Node {
                        span: Span::new(start, span.end),
                        kind: NodeKind::Mapping(entries),
                    };
                    self.complete(node, anchor, size);
                }
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    self.report(YAML_SYNTAX, "alias to an unknown anchor".into(), span);
                    return Err(Stop::Syntax);
                };
                self.alias_nodes = self.alias_nodes.saturating_add(size.nodes);
                if self.alias_nodes > self.limits.max_alias_nodes && excessive_aliasing(self.alias_nodes, self.nodes) {
                    self.report(
                        INPUT_LIMIT,
                        format!(
                            "aliases expand to more than {} nodes; the rest of the file was not checked",
                            self.limits.max_alias_nodes
                        ),
                        span,
                    );
                    return Err(Stop::Limit);
                }
                // An alias nests its anchor's levels where it stands: chained
                // aliases must not build a tree deeper than the limit.
                if self.stack.len().saturating_add(size.height) > self.limits.max_depth {
                    self.report_depth(span);
                    return Err(Stop::Limit);
                }
                self.complete(respan(node, span), 0, size);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn open(&mut self, span: Span) -> Result<(), Stop> {
        if self.stack.len() >= self.limits.max_depth {
            self.report_depth(span);
            return Err(Stop::Limit);
        }
        Ok(())
    }

    fn report_depth(&mut self, span: Span) {
        self.report(
            INPUT_LIMIT,
            format!(
                "nesting deeper than {} levels; the rest of the file was not checked",
                self.limits.max_depth
            ),
            span,
        );
    }

    /// Attaches a finished node to its parent (or makes it the document root).
    fn complete(&mut self, node: Node, anchor: usize, size: Size) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            Some(Frame::Sequence {
                items, size: parent, ..
            }) => {
                parent.add(size);
                items.push(node);
            }
            Some(Frame::Mapping {
                entries,
                keys,
                pending_key,
                size: parent,
                ..
            }) => {
                parent.add(size);
                match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => {
                        let text = key_text(&key).filter(|text| *text != "<<");
                        let earlier = text.and_then(|text| keys.find(entries, text));
                        if let Some(earlier) = earlier.and_then(|at| entries.get_mut(at)) {
                            let message = format!("duplicate key `{}`", text.unwrap_or_default());
                            let location = Location {
                                source: self.source,
                                span: key.span,
                            };
                            let related = Location {
                                source: self.source,
                                span: earlier.key.span,
                            };
                            self.out.diagnostics.push(
                                Diagnostic::error(YAML_SYNTAX, message, location)
                                    .with_related(related, "defined before here")
                                    .with_help("remove one of the keys; Helm and kubectl use the last one, and so does planelint"),
                            );
                            // The entry keeps its place in the mapping.
                            *earlier = Entry { key, value: node };
                        } else {
                            entries.push(Entry { key, value: node });
                            keys.added(entries);
                        }
                    }
                }
            }
            None => {
                if let Some(document) = self.out.documents.last_mut() {
                    document.root = Some(node);
                }
            }
        }
    }

    /// Resolves `<<` merge keys: explicit keys win over merged ones, and an
    /// earlier merged mapping wins over a later one. `keys` holds the text of
    /// every explicit key.
    fn merge_keys(&mut self, entries: Vec<Entry>, mut keys: KeyIndex) -> Vec<Entry> {
        if !entries.iter().any(|e| is_merge_key(&e.key)) {
            return entries;
        }
        let (merges, mut own): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(|e| is_merge_key(&e.key));
        for merge in merges {
            let sources = match merge.value.kind {
                NodeKind::Sequence(items) => items,
                _ => vec![merge.value],
            };
            for source in sources {
                let NodeKind::Mapping(merged) = source.kind else {
                    let location = Location {
                        source: self.source,
                        span: source.span,
                    };
                    self.out.diagnostics.push(Diagnostic::error(
                        YAML_SYNTAX,
                        "a merge key (`<<`) takes a mapping or a list of mappings",
                        location,
                    ));
                    continue;
                };
                for entry in merged {
                    // A merged key without text (a mapping as key) is kept, as before.
                    let new = key_text(&entry.key).is_none_or(|k| keys.find(&own, k).is_none());
                    if new {
                        own.push(entry);
                        keys.added(&own);
                    }
                }
            }
        }
        own
    }
}

/// The byte after the closing quote of the quoted scalar that starts at
/// `start` (its opening quote, possibly after an anchor or a tag).
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let rest = text.get(start..)?;
    let open = rest.find(['\'', '"'])?;
    let quote = rest.as_bytes().get(open).copied()?;
    let mut bytes = rest.bytes().enumerate().skip(open + 1);
    while let Some((i, b)) = bytes.next() {
        if quote == b'"' && b == b'\\' {
            bytes.next();
        } else if b == quote {
            // In single quotes, `''` is an escaped quote.
            if quote == b'\'' && rest.as_bytes().get(i + 1) == Some(&b'\'') {
                bytes.next();
                continue;
            }
            return Some(start + i + 1);
        }
    }
    None
}

/// A block scalar's span from its `|`/`>` indicator (or its anchor or tag,
/// where the parser starts it) to the end of its last content line. The
/// parser starts it at its first content line and ends it after the blank
/// lines that follow. `None` when the header is not where it should be.
fn block_span(text: &str, span: Span) -> Option<Span> {
    let written = text.get(span.start..span.end)?;
    let breaks = ['\n', '\r'];
    let own_line = text.get(..span.start)?.rfind(breaks).map_or(0, |n| n + 1);
    let after_other_text = !text.get(own_line..span.start)?.trim_matches([' ', '\t']).is_empty();
    let start = if after_other_text && written.starts_with(['&', '!']) {
        span.start
    } else {
        // Back over the content line's indentation and any blank lines
        // before it, to the header's line.
        let before = text.get(..span.start)?;
        let header_end = before.trim_end_matches([' ', '\t', '\n', '\r']).len();
        let header_line = before.get(before.get(..header_end)?.rfind(breaks).map_or(0, |n| n + 1)..header_end)?;
        let header = without_comment(header_line).trim_end();
        let indicator = header.rfind(['|', '>'])?;
        let indicators = header.get(indicator + 1..)?;
        if !indicators.bytes().all(|b| b == b'+' || b == b'-' || b.is_ascii_digit()) {
            return None;
        }
        header_end - header_line.len() + indicator
    };
    let content = written.trim_end_matches([' ', '\t', '\n', '\r']);
    // An empty scalar has only its header, comment aside.
    let header_end = text.get(start..)?.find(breaks).map_or(text.len(), |n| start + n);
    let header_end = start + without_comment(text.get(start..header_end)?).trim_end().len();
    let end = if content.is_empty() || span.start + content.len() < header_end {
        header_end
    } else {
        span.start + content.len()
    };
    Some(Span::new(start, end))
}

/// A line without its comment: from a `#` after a blank.
fn without_comment(line: &str) -> &str {
    let comment = line
        .as_bytes()
        .windows(2)
        .position(|pair| matches!(pair, [b' ' | b'\t', b'#']));
    comment.and_then(|at| line.get(..at + 1)).unwrap_or(line)
}

/// Finds a mapping's earlier key with a given text: by scanning its entries
/// while it is small (most are, and a scan allocates nothing), through a map
/// once it is large, so that a mapping with many keys takes linear time.
#[derive(Default)]
struct KeyIndex(Option<FxHashMap<Arc<str>, usize>>);

impl KeyIndex {
    const SCAN_LIMIT: usize = 16;

    /// The index of the entry of `entries` whose key has `text`.
    fn find(&self, entries: &[Entry], text: &str) -> Option<usize> {
        match &self.0 {
            Some(map) => map.get(text).copied(),
            None => entries.iter().position(|e| key_text(&e.key) == Some(text)),
        }
    }

    /// Takes note of the entry just pushed on `entries`.
    fn added(&mut self, entries: &[Entry]) {
        let keyed = |(at, e): (usize, &Entry)| Some((Arc::from(key_text(&e.key)?), at));
        match &mut self.0 {
            Some(map) => {
                let last = entries.len().checked_sub(1).and_then(|at| Some((at, entries.get(at)?)));
                if let Some((text, at)) = last.and_then(keyed) {
                    map.entry(text).or_insert(at);
                }
            }
            None if entries.len() > Self::SCAN_LIMIT => {
                let mut map = FxHashMap::with_capacity_and_hasher(entries.len() * 2, Default::default());
                for (text, at) in entries.iter().enumerate().filter_map(keyed) {
                    map.entry(text).or_insert(at);
                }
                self.0 = Some(map);
            }
            None => {}
        }
    }
}

fn key_text(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Scalar { value, .. } => Some(value),
        _ => None,
    }
}

fn is_merge_key(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Scalar { value, style: Style::Plain, .. } if value.as_ref() == "<<")
}

/// An alias's copy of its anchor, every node located at the alias: a
/// finding on an entity that an alias wrote points where the alias is, not
/// at the anchor it copies (the message names the key or value). Walks with
/// an explicit stack, as the copy may be as deep as the depth limit.
fn respan(mut node: Node, span: Span) -> Node {
    let mut stack: Vec<&mut Node> = vec![&mut node];
    while let Some(current) = stack.pop() {
        current.span = span;
        match &mut current.kind {
            NodeKind::Scalar { .. } => {}
            NodeKind::Sequence(items) => stack.extend(items.iter_mut()),
            NodeKind::Mapping(entries) => {
                for entry in entries {
                    stack.push(&mut entry.key);
                    stack.push(&mut entry.value);
                }
            }
        }
    }
    node
}

/// The characters YAML 1.2 allows in a stream (`c-printable`).
/// The first character YAML does not allow in a stream, and where it is.
/// Bytes are checked first: nearly every file is printable ASCII.
fn first_unprintable(text: &str) -> Option<(usize, char)> {
    let printable_ascii = |b: &u8| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~');
    // Whole blocks are checked without stopping early, which compiles to
    // vector instructions; the byte-wise search starts at the first block
    // that fails.
    let bytes = text.as_bytes();
    let clean_blocks = bytes
        .chunks(64)
        .take_while(|block| block.iter().fold(true, |all, b| all & printable_ascii(b)))
        .count();
    let checked = clean_blocks * 64;
    let ascii_prefix = checked + bytes.get(checked..)?.iter().position(|b| !printable_ascii(b))?;
    let rest = text.get(ascii_prefix..)?;
    rest.char_indices()
        .find(|&(_, c)| !is_printable(c))
        .map(|(at, c)| (ascii_prefix + at, c))
}

fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

fn expand_handle(handle: &str) -> &str {
    if handle == "!!" { "tag:yaml.org,2002:" } else { handle }
}

#[cfg(test)]
mod tests;
