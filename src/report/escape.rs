//! Scanned text made inert for each output's own syntax: one module, so that
//! a hostile cluster name is escaped the same way in every output. Text from
//! scanned files never carries markup, a link, a directive, a control
//! character or a bidirectional override into what planelint writes.

use super::is_hidden_control;
use std::io;

/// Breaks what GitHub would turn into a link or a notification (`@team`,
/// `#12`, `https://`, `www.`) without changing what a reader sees.
const ZERO_WIDTH_SPACE: &str = "&#8203;";

/// XML 1.0 text (or, with `attribute`, an attribute value), for JUnit, the
/// HTML report and its SVG: markup escaped, line breaks kept as character
/// references where a parser would fold them, and characters XML cannot
/// carry, C1 controls and bidirectional overrides replaced by U+FFFD (as a
/// character reference, an override would still reorder what is shown).
pub fn xml(text: &str, attribute: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\r' => escaped.push_str("&#13;"),
            '\n' | '\t' if attribute => escaped.push_str(&format!("&#{};", u32::from(c))),
            '\n' | '\t' => escaped.push(c),
            '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            c if is_hidden_control(c) => escaped.push('\u{fffd}'),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Inline Markdown text (a table cell, a list item): the ASCII punctuation
/// that can start markup is backslash-escaped, as CommonMark allows; GitHub's
/// autolinks (mentions, issue references, bare URLs) are broken by a zero
/// width space; line breaks become spaces, hidden characters U+FFFD.
pub fn markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    for (at, c) in text.char_indices() {
        let rest = text.get(at..).unwrap_or_default();
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '!' | '~' | '&' | '$' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '@' | '#' => {
                escaped.push(c);
                escaped.push_str(ZERO_WIDTH_SPACE);
            }
            // `GH-12` is an issue reference too.
            '-' if at >= 2
                && text
                    .as_bytes()
                    .get(at - 2..at)
                    .is_some_and(|g| g.eq_ignore_ascii_case(b"GH")) =>
            {
                escaped.push(c);
                escaped.push_str(ZERO_WIDTH_SPACE);
            }
            ':' if rest.starts_with("://") => {
                escaped.push(c);
                escaped.push_str(ZERO_WIDTH_SPACE);
            }
            '.' if at >= 3
                && text
                    .as_bytes()
                    .get(at - 3..at)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"www")) =>
            {
                escaped.push_str(ZERO_WIDTH_SPACE);
                escaped.push(c);
            }
            '\n' | '\r' => escaped.push(' '),
            c if is_hidden_control(c) => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A Markdown code span holding `text` verbatim: its fence is longer than
/// any run of backticks inside, so nothing breaks out of it. In a table
/// (`in_table`), pipes are escaped: GitHub splits cells before it reads code.
pub fn markdown_code(text: &str, in_table: bool) -> String {
    let mut content = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' if in_table => content.push_str("\\|"),
            '\n' | '\r' => content.push(' '),
            c if is_hidden_control(c) => content.push('\u{fffd}'),
            c => content.push(c),
        }
    }
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space on each side keeps a backtick at an end from joining the fence
    // (CommonMark strips one such space from each end).
    let pad = if content.starts_with(['`', ' ']) || content.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// A Mermaid node label, quoted: every character Mermaid could read as
/// syntax (a directive or comment `%%`, an entity `#..;`, HTML, the quote
/// that ends the label, a Markdown string's backtick) is an entity code, and
/// line breaks become spaces.
pub fn mermaid(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('"');
    for c in text.chars() {
        match c {
            '"' | '#' | '%' | '<' | '>' | '&' | '`' | '{' | '}' | '\\' => {
                escaped.push_str(&format!("#{};", u32::from(c)));
            }
            '\n' | '\r' => escaped.push(' '),
            c if is_hidden_control(c) => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped.push('"');
    escaped
}

/// A Graphviz DOT string literal: quotes and backslashes escaped, line
/// breaks as DOT's `\n`, control characters (NUL, ESC) and bidirectional
/// overrides replaced by U+FFFD.
pub fn dot(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('"');
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c if is_hidden_control(c) => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped.push('"');
    escaped
}

/// serde_json's pretty printer, with C1 controls and bidirectional
/// overrides written as `\u` escapes too (serde_json escapes only C0): the
/// data stays exact, and the bytes of the file cannot reorder a terminal.
pub struct JsonFormatter(serde_json::ser::PrettyFormatter<'static>);

impl JsonFormatter {
    pub fn new() -> Self {
        JsonFormatter(serde_json::ser::PrettyFormatter::new())
    }
}

impl Default for JsonFormatter {
    fn default() -> Self {
        JsonFormatter::new()
    }
}

/// Writes `value` as pretty JSON through [`JsonFormatter`].
pub fn to_json_writer<T: serde::Serialize + ?Sized>(out: &mut dyn io::Write, value: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, JsonFormatter::new());
    value.serialize(&mut serializer).map_err(io::Error::from)
}

impl serde_json::ser::Formatter for JsonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut clean_from = 0;
        for (at, c) in fragment.char_indices() {
            if is_hidden_control(c) {
                writer.write_all(fragment.get(clean_from..at).unwrap_or_default().as_bytes())?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                clean_from = at + c.len_utf8();
            }
        }
        writer.write_all(fragment.get(clean_from..).unwrap_or_default().as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

/// A root-relative path as a URI reference that stays below its base: `.`
/// and empty segments dropped, `..` resolved, and never above the start.
pub fn relative_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_hides_what_it_cannot_show() {
        assert_eq!(xml("a<b>&\"'", false), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml("a\nb\r\u{1b}", false), "a\nb&#13;\u{fffd}");
        assert_eq!(xml("a\nb\tc", true), "a&#10;b&#9;c");
        assert_eq!(xml("x\u{85}y\u{202e}z\u{2066}", false), "x\u{fffd}y\u{fffd}z\u{fffd}");
    }

    #[test]
    fn markdown_text_carries_no_markup_links_or_mentions() {
        assert_eq!(
            markdown("<img src=x> [a](b) `c` *d* a|b"),
            "\\<img src=x\\> \\[a\\](b) \\`c\\` \\*d\\* a\\|b"
        );
        assert_eq!(
            markdown("@team #12 https://evil.example www.evil.example GH-7"),
            "@&#8203;team #&#8203;12 https:&#8203;//evil.example www&#8203;.evil.example GH-&#8203;7"
        );
        assert_eq!(markdown("a\nb\r\u{202e}c"), "a b \u{fffd}c");
    }

    #[test]
    fn a_markdown_code_span_cannot_be_broken_out_of() {
        assert_eq!(markdown_code("plain", false), "`plain`");
        assert_eq!(markdown_code("a`b", false), "``a`b``");
        assert_eq!(markdown_code("`x``", false), "``` `x`` ```");
        assert_eq!(markdown_code("a|b", true), "`a\\|b`");
        assert_eq!(markdown_code("a|b\nc", false), "`a|b c`");
    }

    #[test]
    fn mermaid_labels_hold_no_directive_comment_or_html() {
        assert_eq!(
            mermaid("%%{init: {\"theme\":\"dark\"}}%%\n<b>#quot;"),
            "\"#37;#37;#123;init: #123;#34;theme#34;:#34;dark#34;#125;#125;#37;#37; #60;b#62;#35;quot;\""
        );
    }

    #[test]
    fn dot_strings_hold_no_raw_control_characters() {
        assert_eq!(
            dot("a\"b\\c\nd\0e\u{1b}[2J\u{202e}"),
            "\"a\\\"b\\\\c\\nd\u{fffd}e\u{fffd}[2J\u{fffd}\""
        );
    }

    #[test]
    fn json_escapes_c1_controls_and_bidirectional_overrides() {
        let mut out = Vec::new();
        to_json_writer(&mut out, &["a\u{85}b\u{202e}c\u{2069}", "\u{1b}"]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\n  \"a\\u0085b\\u202ec\\u2069\",\n  \"\\u001b\"\n]"
        );
    }

    #[test]
    fn relative_paths_never_climb_out_of_their_base() {
        assert_eq!(relative_path("a/./b//c.yaml"), "a/b/c.yaml");
        assert_eq!(relative_path("../../etc/passwd"), "etc/passwd");
        assert_eq!(relative_path("a/../../b/../c"), "c");
    }
}
