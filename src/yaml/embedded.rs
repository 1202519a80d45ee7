//! YAML inside YAML: the text of a string scalar (a ConfigMap's
//! `config.yaml`, an Argo CD Application's `values`) loaded as documents of
//! its own, every span mapped back to where its characters are written in
//! the enclosing file: exact for block scalars and for quoted scalars with
//! escapes, since each decoded byte keeps the bytes it came from.

use super::{Limits, Loaded, Node, NodeKind, Style, load_within};
use crate::source::{SourceId, Span};

/// For each byte of a decoded scalar, the bytes of the enclosing text it
/// was decoded from (an escape such as `\n` makes one byte of two); `u32`,
/// since files are far smaller than 4 GiB (a larger one maps every span to
/// the whole scalar).
type Origins = Vec<(u32, u32)>;

/// How many times its own length the reparses of an embedded text may read
/// when it is relaxed (see `yaml::load_within`).
const EMBEDDED_REPARSES: usize = 4;

fn narrow(at: usize) -> Option<u32> {
    u32::try_from(at).ok()
}

/// Loads the text of the string scalar `node` of `text` as YAML documents,
/// their spans (and those of the diagnostics) in `text`. `None` when the
/// node is not a string scalar.
pub fn load_scalar(text: &str, node: &Node, source: SourceId, limits: Limits) -> Option<Loaded> {
    let NodeKind::Scalar { value, style, .. } = &node.kind else {
        return None;
    };
    let written = text.get(node.span.start..node.span.end)?;
    let origins = match style {
        Style::Block => block(text, node.span, value),
        Style::Quoted => quoted(written, node.span.start, value),
        Style::Plain => None,
    }
    .unwrap_or_default();
    let mut loaded = load_within(value, source, limits, value.len().saturating_mul(EMBEDDED_REPARSES));
    let map = |span: &mut Span| *span = outer(&origins, *span, node.span);
    for document in &mut loaded.documents {
        if let Some(root) = &mut document.root {
            remap(root, &map);
        }
    }
    for diagnostic in &mut loaded.diagnostics {
        map(&mut diagnostic.location.span);
        for related in &mut diagnostic.related {
            map(&mut related.location.span);
        }
    }
    Some(loaded)
}

/// Where the bytes `inner` of the string scalar `node`'s value are written
/// in `text`: exact for block and quoted scalars, the whole scalar when
/// planelint cannot follow how it was decoded.
pub fn span_within(text: &str, node: &Node, inner: Span) -> Span {
    let NodeKind::Scalar { value, style, .. } = &node.kind else {
        return node.span;
    };
    let origins = match style {
        Style::Block => block(text, node.span, value),
        Style::Quoted => text
            .get(node.span.start..node.span.end)
            .and_then(|written| quoted(written, node.span.start, value)),
        Style::Plain => plain(text, node.span, value),
    }
    .unwrap_or_default();
    outer(&origins, inner, node.span)
}

/// A plain scalar on one line is its own text.
fn plain(text: &str, span: Span, value: &str) -> Option<Origins> {
    let written = text.get(span.start..span.end)?;
    if written != value {
        return None;
    }
    (0..value.len())
        .map(|i| Some((narrow(span.start + i)?, narrow(span.start + i + 1)?)))
        .collect()
}

/// Where the decoded bytes `inner` were written; without origins (decoded
/// otherwise than planelint can follow), the whole scalar, still in the
/// right place.
fn outer(origins: &Origins, inner: Span, whole: Span) -> Span {
    if origins.is_empty() {
        return whole;
    }
    let start = origins.get(inner.start).map(|o| o.0 as usize);
    let end = inner
        .end
        .checked_sub(1)
        .and_then(|last| origins.get(last))
        .map(|o| o.1 as usize);
    match (start, end) {
        (Some(start), Some(end)) if inner.end > inner.start => Span::new(start, end.max(start)),
        (Some(start), _) => Span::new(start, start),
        // At the end of the decoded text: the end of the scalar.
        (None, _) => Span::new(whole.end, whole.end),
    }
}

fn remap(node: &mut Node, map: &impl Fn(&mut Span)) {
    map(&mut node.span);
    match &mut node.kind {
        NodeKind::Scalar { .. } => {}
        NodeKind::Sequence(items) => items.iter_mut().for_each(|item| remap(item, map)),
        NodeKind::Mapping(entries) => {
            for entry in entries {
                remap(&mut entry.key, map);
                remap(&mut entry.value, map);
            }
        }
    }
}

/// A literal block scalar (`|`, `|-`, `|+`, `|2`): each content line less
/// its indentation, then a line break; the parser's value is a prefix of
/// that (it chomps trailing breaks). Folded scalars (`>`) join lines and
/// are not followed.
fn block(text: &str, span: Span, value: &str) -> Option<Origins> {
    // The span starts on the header's line (at the indicator, or at an
    // anchor or a tag before it) and ends at the last content line; the
    // value goes on over the blank lines after it (`|+` keeps them).
    let header_start = text.get(..span.start)?.rfind('\n').map_or(0, |n| n + 1);
    let header_end = text
        .get(span.start..)?
        .find('\n')
        .map_or(text.len(), |n| span.start + n);
    let header_line = text.get(header_start..header_end)?.trim_end_matches('\r');
    let header = header_line.split(" #").next()?.trim_end();
    let header = header.get(header.rfind(['|', '>'])?..)?;
    if !header.starts_with('|') {
        return None;
    }
    let line_start = (header_end + 1).min(text.len());
    let after = text.get(span.end..)?;
    let blank_after = after.len() - after.trim_start_matches([' ', '\t', '\n', '\r']).len();
    let body_end = span.end + after.get(..blank_after)?.rfind('\n').map_or(0, |n| n + 1);
    let body = text.get(line_start..body_end.max(line_start))?;
    let offset = line_start;
    // An indentation indicator counts from the indentation of the node
    // that holds the block: the header's line.
    let parent_indent = header_line.len() - header_line.trim_start_matches(' ').len();
    let indent = header
        .bytes()
        .find(u8::is_ascii_digit)
        .map(|digit| parent_indent + usize::from(digit - b'0'))
        .or_else(|| {
            body.lines()
                .find(|line| !line.trim().is_empty())
                .map(|line| line.len() - line.trim_start_matches(' ').len())
        })
        .unwrap_or(0);
    let mut decoded = String::with_capacity(body.len());
    let mut origins = Origins::with_capacity(body.len());
    let mut at = offset;
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches('\n').trim_end_matches('\r');
        let skip = indent.min(content.len());
        let text = content.get(skip..).unwrap_or_default();
        for (i, c) in text.char_indices() {
            let from = at + skip + i;
            let origin = (narrow(from)?, narrow(from + c.len_utf8())?);
            origins.extend(std::iter::repeat_n(origin, c.len_utf8()));
        }
        decoded.push_str(text);
        decoded.push('\n');
        // A line break is the line's own (`\r\n` included).
        let break_end = at + line.len();
        origins.push((
            narrow(at + content.len())?,
            narrow(break_end.max(at + content.len() + 1))?,
        ));
        at += line.len();
    }
    if !decoded.starts_with(value) {
        return None;
    }
    origins.truncate(value.len());
    Some(origins)
}

/// A double- or single-quoted scalar: escapes and folded line breaks decode
/// to bytes that keep the whole escape or break as their origin.
fn quoted(written: &str, offset: usize, value: &str) -> Option<Origins> {
    // Every origin below fits in a `u32` when the scalar's end does.
    narrow(offset + written.len())?;
    let quote = written.chars().next()?;
    let inner = written.get(1..written.len().checked_sub(1)?)?;
    let start = offset + 1;
    let mut decoded = String::with_capacity(value.len());
    let mut origins = Origins::with_capacity(value.len());
    let mut push = |decoded: &mut String, c: char, from: usize, to: usize| {
        decoded.push(c);
        let origin = (narrow(from).unwrap_or(u32::MAX), narrow(to).unwrap_or(u32::MAX));
        origins.extend(std::iter::repeat_n(origin, c.len_utf8()));
    };
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < inner.len() {
        let rest = inner.get(i..)?;
        let c = rest.chars().next()?;
        let here = start + i;
        match c {
            '\\' if quote == '"' => {
                let next = rest.chars().nth(1)?;
                let (decoded_char, width) = match next {
                    'n' => (Some('\n'), 2),
                    't' | '\t' => (Some('\t'), 2),
                    'r' => (Some('\r'), 2),
                    '0' => (Some('\0'), 2),
                    '"' | '\\' | '/' | ' ' => (Some(next), 2),
                    'e' => (Some('\u{1b}'), 2),
                    'x' => (hex(rest.get(2..4)?), 4),
                    'u' => (hex(rest.get(2..6)?), 6),
                    'U' => (hex(rest.get(2..10)?), 10),
                    '\n' => {
                        // An escaped line break: nothing, nor the next line's
                        // leading blanks.
                        let after = rest.get(2..)?;
                        let blanks = after.len() - after.trim_start_matches([' ', '\t']).len();
                        i += 2 + blanks;
                        continue;
                    }
                    _ => return None,
                };
                push(&mut decoded, decoded_char?, here, here + width);
                i += width;
            }
            '\'' if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') => {
                push(&mut decoded, '\'', here, here + 2);
                i += 2;
            }
            '\n' | ' ' | '\t' | '\r' => {
                // Blanks then a line break fold: trailing blanks go, one
                // break is a space, each further (empty) line a break.
                let run_end = rest
                    .find(|c: char| !matches!(c, ' ' | '\t' | '\r' | '\n'))
                    .unwrap_or(rest.len());
                let run = rest.get(..run_end)?;
                let breaks = run.matches('\n').count();
                if breaks == 0 {
                    for (j, blank) in run.char_indices() {
                        push(&mut decoded, blank, here + j, here + j + 1);
                    }
                } else if breaks == 1 {
                    push(&mut decoded, ' ', here, here + run_end);
                } else {
                    for _ in 1..breaks {
                        push(&mut decoded, '\n', here, here + run_end);
                    }
                }
                i += run_end;
            }
            _ => {
                push(&mut decoded, c, here, here + c.len_utf8());
                i += c.len_utf8();
            }
        }
    }
    (decoded == value).then_some(origins)
}

fn hex(digits: &str) -> Option<char> {
    u32::from_str_radix(digits, 16).ok().and_then(char::from_u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    fn spans_of(text: &str, key: &str) -> Vec<(String, String)> {
        let outer = load(text, SourceId(0), Limits::default());
        let root = outer.documents[0].root.as_ref().unwrap();
        let node = root.get("data").unwrap().get(key).unwrap();
        let inner = load_scalar(text, node, SourceId(0), Limits::default()).unwrap();
        assert!(inner.diagnostics.is_empty(), "{:?}", inner.diagnostics);
        let root = inner.documents[0].root.as_ref().unwrap();
        let mut out = Vec::new();
        for entry in root.as_mapping().unwrap() {
            let value = &entry.value;
            out.push((
                text[entry.key.span.start..entry.key.span.end].to_string(),
                text[value.span.start..value.span.end].to_string(),
            ));
        }
        out
    }

    #[test]
    fn a_block_scalar_maps_each_line_back() {
        let text = "kind: ConfigMap\ndata:\n  config.yaml: |\n    name: c1\n\n    bucket: \"s3://x\"\n  other: x\n";
        assert_eq!(
            spans_of(text, "config.yaml"),
            [("name".into(), "c1".into()), ("bucket".into(), "\"s3://x\"".into())]
        );
    }

    #[test]
    fn a_quoted_scalar_with_escapes_maps_each_character_back() {
        let text = "data:\n  config.yaml: \"name: c1\\nbucket: \\\"s3://x\\\"\\n\"\n";
        assert_eq!(
            spans_of(text, "config.yaml"),
            [("name".into(), "c1".into()), ("bucket".into(), "\\\"s3://x\\\"".into())]
        );
    }

    #[test]
    fn an_error_inside_points_into_the_enclosing_file() {
        let text = "data:\n  config.yaml: |\n    a: [1, 2\n";
        let outer = load(text, SourceId(0), Limits::default());
        let node = outer.documents[0]
            .root
            .as_ref()
            .unwrap()
            .get("data")
            .unwrap()
            .get("config.yaml")
            .unwrap();
        let inner = load_scalar(text, node, SourceId(0), Limits::default()).unwrap();
        let span = inner.diagnostics[0].location.span;
        assert_eq!(&text[span.start..span.end], "2");
    }

    #[test]
    fn a_part_of_a_scalar_is_where_it_is_written() {
        let text = "a: gsa-{{ domain }}@x\nb: \"\\t{{ domain }}\"\nc: |\n  x\n  y {{ domain }}\n";
        let root = load(text, SourceId(0), Limits::default())
            .documents
            .remove(0)
            .root
            .unwrap();
        // Plain, quoted after an escape (decoded offsets differ), block.
        for key in ["a", "b", "c"] {
            let node = root.get(key).unwrap();
            let value = node.as_str().unwrap();
            let at = value.find("{{").unwrap();
            let span = span_within(text, node, Span::new(at, at + "{{ domain }}".len()));
            assert_eq!(&text[span.start..span.end], "{{ domain }}", "{key}");
        }
    }
}
