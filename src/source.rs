//! Source files and positions: byte spans, line index, character-to-byte
//! conversion, clamping. Imports no other module of the crate.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The UTF-8 byte-order mark some editors write at the start of a file.
const BOM: char = '\u{FEFF}';

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u32);

/// A half-open byte range `[start, end)` in one source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }
}

/// A 1-based line and column; the column counts Unicode scalar values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// One scanned (or embedded) file: its path as shown to the user, its text
/// and the byte offset of every line start, computed the first time a
/// position in it is asked for (most files of a run never are).
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as shown in output (relative to the working directory when
    /// the file is below it), always with `/` separators.
    pub name: String,
    pub path: PathBuf,
    pub text: Arc<str>,
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(name: String, path: PathBuf, text: Arc<str>) -> SourceFile {
        SourceFile {
            name,
            path,
            text,
            line_starts: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            // YAML breaks lines at LF, CRLF and a lone CR (as editors do), so
            // a file with old Mac or mixed line endings keeps its lines.
            let bytes = self.text.as_bytes();
            let starts = std::iter::once(0);
            // Most files have no CR at all: their lines are found by a
            // vectorized search for LF, ten times faster than a byte loop
            // (this index is built on the one thread that reports).
            if memchr::memchr(b'\r', bytes).is_none() {
                return starts.chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1)).collect();
            }
            starts
                .chain(bytes.iter().enumerate().filter_map(|(i, &b)| {
                    let lone_cr = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
                    (b == b'\n' || lone_cr).then_some(i + 1)
                }))
                .collect()
        })
    }

    /// Clamps `span` to the text and to character boundaries, so that no
    /// consumer (miette in particular) ever sees a span past the end.
    pub fn clamp(&self, span: Span) -> Span {
        let len = self.text.len();
        let mut start = span.start.min(len);
        while !self.text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, len);
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        Span { start, end }
    }

    /// The line and column of a byte offset (clamped to the text). A
    /// byte-order mark is not a column: editors do not show it.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.clamp(Span::new(offset, offset)).start;
        let line_starts = self.line_starts();
        let line = line_starts.partition_point(|&start| start <= offset);
        let mut line_start = line_starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        if line_start == 0 && self.text.starts_with(BOM) {
            line_start = BOM.len_utf8().min(offset);
        }
        let column = self.text.get(line_start..offset).map_or(0, |s| s.chars().count()) + 1;
        LineCol { line, column }
    }

    /// The text of the 1-based line `line`, without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        let range = self.line_range(line);
        self.text.get(range.start..range.end).unwrap_or("")
    }

    /// Where the 1-based line `line` is, without its line terminator (nor,
    /// on the first line, a byte-order mark); empty past the last line.
    pub fn line_range(&self, line: usize) -> Span {
        let line_starts = self.line_starts();
        let Some(&start) = line_starts.get(line.wrapping_sub(1)) else {
            return Span::new(self.text.len(), self.text.len());
        };
        let end = line_starts.get(line).copied().unwrap_or(self.text.len());
        let text = self.text.get(start..end).unwrap_or("");
        let end = start + text.trim_end_matches(['\n', '\r']).len();
        let start = if start == 0 && text.starts_with(BOM) {
            BOM.len_utf8().min(end)
        } else {
            start
        };
        Span::new(start, end)
    }

    /// The 1-based line that holds byte `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&start| start <= offset.min(self.text.len()))
    }

    /// Each line's offset and text, without its terminator: lines end at
    /// `\n`, `\r\n` or a lone `\r`, as in [`SourceFile::line_col`].
    pub fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let starts = self.line_starts();
        starts.iter().enumerate().map(move |(index, &start)| {
            let end = starts.get(index + 1).copied().unwrap_or(self.text.len());
            let line = self.text.get(start..end).unwrap_or("");
            (start, line.trim_end_matches(['\n', '\r']))
        })
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }
}

/// Converts the character offsets a YAML parser reports into byte offsets.
///
/// Offsets only grow while a document is parsed, so a forward cursor makes
/// every conversion amortized O(1); a backward request restarts the scan.
pub struct CharToByte<'a> {
    text: &'a str,
    ascii: bool,
    char_index: usize,
    byte_index: usize,
}

impl<'a> CharToByte<'a> {
    pub fn new(text: &'a str) -> Self {
        CharToByte {
            text,
            ascii: text.is_ascii(),
            char_index: 0,
            byte_index: 0,
        }
    }

    /// Asked twice per YAML event: the ASCII case is inlined where it is asked.
    #[inline]
    pub fn byte_offset(&mut self, char_offset: usize) -> usize {
        if self.ascii {
            return char_offset.min(self.text.len());
        }
        self.byte_offset_counting(char_offset)
    }

    fn byte_offset_counting(&mut self, char_offset: usize) -> usize {
        if char_offset < self.char_index {
            self.char_index = 0;
            self.byte_index = 0;
        }
        let rest = self.text.get(self.byte_index..).unwrap_or("");
        for (consumed, (i, _)) in rest.char_indices().enumerate() {
            if self.char_index + consumed == char_offset {
                self.char_index = char_offset;
                self.byte_index += i;
                return self.byte_index;
            }
        }
        self.char_index += rest.chars().count();
        self.byte_index = self.text.len();
        self.byte_index
    }
}

/// Every file of a run, indexed by [`SourceId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The root of the scanned repository, once known.
    root: Option<PathBuf>,
    /// Per file, its path below `root`, found the first time it is asked for.
    below_root: Vec<OnceLock<Option<String>>>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> SourceId {
        let id = SourceId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        self.below_root.push(OnceLock::new());
        id
    }

    /// Sets the root (canonical) that [`SourceMap::repo_name`] is relative to.
    pub fn set_root(&mut self, root: PathBuf) {
        self.root = Some(root);
        self.below_root.iter_mut().for_each(|below| *below = OnceLock::new());
    }

    /// The name of a file that does not depend on the working directory: its
    /// path below the root, else (a file outside it, a built-in policy) its
    /// shown name.
    pub fn repo_name(&self, id: SourceId) -> Option<&str> {
        let file = self.get(id)?;
        let below = self.below_root.get(id.0 as usize).and_then(|below| {
            below
                .get_or_init(|| self.root.as_deref().and_then(|root| path_below(root, file)))
                .as_deref()
        });
        Some(below.unwrap_or(&file.name))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn get(&self, id: SourceId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (SourceId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }
}

/// The path of `file` below `root` (canonical), with `/` separators, when
/// it is there. A relative path (a built-in policy's) is below no directory.
pub fn path_below(root: &Path, file: &SourceFile) -> Option<String> {
    if !file.path.is_absolute() {
        return None;
    }
    let path = std::fs::canonicalize(&file.path).ok()?;
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| escaped(c.as_os_str().as_encoded_bytes()))
        .collect();
    Some(parts.join("/"))
}

/// `bytes` (a path) as text: bytes that are not UTF-8 as `\xNN`, control
/// characters as `\u{NN}`, so that no name can pass for another or move the
/// cursor of a terminal. The same in every output format.
pub fn escaped(bytes: &[u8]) -> String {
    use std::fmt::Write;
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(char::is_control)
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            } else {
                out.push(c);
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("f.yaml".into(), "f.yaml".into(), text.into())
    }

    #[test]
    fn names_escape_what_is_not_utf8_and_control_characters() {
        assert_eq!(escaped("\u{1b}[31mred".as_bytes()), "\\u{1b}[31mred");
        assert_eq!(escaped(b"caf\xe9\x85.yaml"), "caf\\xe9\\x85.yaml");
        assert_eq!(escaped("caf\u{e9}.yaml".as_bytes()), "caf\u{e9}.yaml");
    }

    #[test]
    fn columns_count_unicode_scalars() {
        let f = file("a: é\nbé: x\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        let x = f.text.find('x').unwrap();
        assert_eq!(f.line_col(x), LineCol { line: 2, column: 5 });
        assert_eq!(f.line_col(f.text.len()), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn clamp_never_passes_the_end_or_splits_a_char() {
        let f = file("é");
        assert_eq!(f.clamp(Span::new(1, 99)), Span { start: 0, end: 2 });
        assert_eq!(f.clamp(Span::new(7, 9)), Span { start: 2, end: 2 });
    }

    #[test]
    fn char_offsets_become_byte_offsets() {
        let text = "é: ü\nx";
        let mut conv = CharToByte::new(text);
        assert_eq!(conv.byte_offset(0), 0);
        assert_eq!(conv.byte_offset(3), 4);
        assert_eq!(conv.byte_offset(5), 7);
        assert_eq!(conv.byte_offset(1), 2);
        assert_eq!(conv.byte_offset(60), text.len());
    }

    #[test]
    fn lone_cr_and_mixed_line_endings_break_lines() {
        let f = file("a\rbc\r\nd\ne");
        assert_eq!(f.line_count(), 4);
        assert_eq!(f.line_text(2), "bc");
        assert_eq!(f.line_col(f.text.find('c').unwrap()), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_col(f.text.find('d').unwrap()), LineCol { line: 3, column: 1 });
        assert_eq!(f.line_col(f.text.find('e').unwrap()), LineCol { line: 4, column: 1 });
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let f = file("\u{FEFF}ab: c\nd");
        assert_eq!(f.line_col(3), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(f.text.find('c').unwrap()), LineCol { line: 1, column: 5 });
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_text(1), "ab: c");
    }

    #[test]
    fn line_text_strips_crlf() {
        let f = file("a\r\nb\n");
        assert_eq!(f.line_text(1), "a");
        assert_eq!(f.line_text(2), "b");
        assert_eq!(f.line_text(9), "");
    }
}
