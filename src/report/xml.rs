//! XML escaping, for every output that writes XML or HTML (JUnit, the audit
//! report and its SVG diagram): one escaper, so that a hostile name is made
//! inert the same way everywhere.

/// XML 1.0 text (or, with `attribute`, an attribute value): markup escaped,
/// line breaks kept as character references where a parser would fold them,
/// and characters XML 1.0 cannot carry at all replaced by U+FFFD.
pub fn escape(text: &str, attribute: bool) -> String {
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
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_characters_xml_cannot_hold() {
        assert_eq!(escape("a<b>&\"'", false), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(escape("a\nb\r\u{1b}", false), "a\nb&#13;\u{fffd}");
        assert_eq!(escape("a\nb\tc", true), "a&#10;b&#9;c");
    }
}
