use super::*;

fn load_str(text: &str) -> Loaded {
    load(text, SourceId(0), Limits::default())
}

fn root(text: &str) -> Node {
    let loaded = load_str(text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.documents.into_iter().next().and_then(|d| d.root).unwrap()
}

#[test]
fn scalar_spans_are_bytes_and_include_quotes() {
    let text = "é: 'x ü'\nb: plain\n";
    let node = root(text);
    let value = node.get("é").unwrap();
    assert_eq!(&text[value.span.start..value.span.end], "'x ü'");
    assert_eq!(value.as_str(), Some("x ü"));
    let b = node.get("b").unwrap();
    assert_eq!(&text[b.span.start..b.span.end], "plain");
}

#[test]
fn the_first_byte_shortcut_resolves_plain_scalars_as_the_full_schema_does() {
    let rests = [
        "", "1", "0", "x7", "ull", "ULL", "rue", "alse", "ALSE", "inf", "nan", "5e3", ".5", "o17", "x1F",
    ];
    for first in (0x20u8..0x7f).map(char::from) {
        for rest in rests {
            let value = format!("{first}{rest}");
            let (fast, full) = (resolve_plain(&value), resolve_plain_fully(&value));
            // NaN is not equal to itself: compare how it prints.
            assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{value:?}");
        }
    }
    assert_eq!(resolve_plain(""), Scalar::Null);
}

#[test]
fn core_schema_types() {
    let node = root("a: true\nb: 12\nc: '12'\nd: ~\ne: 1.5\nf: !!str 7\ng: 0x1F\n");
    assert_eq!(node.get("a").unwrap().scalar(), Some(Scalar::Bool(true)));
    assert_eq!(node.get("b").unwrap().scalar(), Some(Scalar::Int(12)));
    assert_eq!(node.get("c").unwrap().scalar(), Some(Scalar::String("12")));
    assert_eq!(node.get("d").unwrap().scalar(), Some(Scalar::Null));
    assert_eq!(node.get("e").unwrap().scalar(), Some(Scalar::Float(1.5)));
    assert_eq!(node.get("f").unwrap().scalar(), Some(Scalar::String("7")));
    assert_eq!(node.get("g").unwrap().scalar(), Some(Scalar::Int(31)));
}

#[test]
fn multi_document_files() {
    let loaded = load_str("a: 1\n---\nb: 2\n---\n");
    assert_eq!(loaded.documents.len(), 3);
    assert_eq!(loaded.documents[2].root.as_ref().unwrap().scalar(), Some(Scalar::Null));
}

#[test]
fn aliases_and_merge_keys_resolve() {
    let node = root("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\ncopy: *b\n");
    let derived = node.get("derived").unwrap();
    assert_eq!(derived.get("x").unwrap().scalar(), Some(Scalar::Int(1)));
    assert_eq!(derived.get("y").unwrap().scalar(), Some(Scalar::Int(3)));
    assert_eq!(
        node.get("copy").unwrap().get("y").unwrap().scalar(),
        Some(Scalar::Int(2))
    );
}

#[test]
fn duplicate_key_points_at_the_second_key() {
    let text = "a: 1\nb: 2\na: 3\n";
    let loaded = load_str(text);
    assert_eq!(loaded.diagnostics.len(), 1);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.rule.as_str(), YAML_SYNTAX);
    assert_eq!(d.message, "duplicate key `a`");
    assert_eq!(d.location.span, Span::new(10, 11));
    assert_eq!(d.related[0].location.span, Span::new(0, 1));
    let root = loaded.documents[0].root.as_ref().unwrap();
    assert_eq!(root.get("a").unwrap().scalar(), Some(Scalar::Int(3)));
}

#[test]
fn syntax_error_keeps_earlier_documents() {
    let loaded = load_str("a: 1\n---\nb: [1, 2\nc: d\n");
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!(loaded.diagnostics[0].rule.as_str(), YAML_SYNTAX);
    assert!(loaded.documents[0].root.is_some());
}

#[test]
fn deep_flow_nesting_is_a_limit_not_a_crash() {
    let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let loaded = load_str(&text);
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!(loaded.diagnostics[0].rule.as_str(), INPUT_LIMIT);
}

#[test]
fn deep_block_nesting_stops_at_the_depth_limit() {
    let text: String = (0..1000).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    let loaded = load_str(&text);
    assert_eq!(loaded.diagnostics.len(), 1);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.rule.as_str(), INPUT_LIMIT);
    assert_eq!(
        d.message,
        "nesting deeper than 128 levels; the rest of the file was not checked"
    );
}

#[test]
fn billion_laughs_is_a_limit() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            ["b", "c", "d", "e", "f", "g", "h"][i - 1].to_string()
        };
        text.push_str(&format!(
            "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let loaded = load_str(&text);
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!(loaded.diagnostics[0].rule.as_str(), INPUT_LIMIT);
}

#[test]
fn quoted_scalar_span_ends_at_its_closing_quote() {
    let text = "a: \"x \\\" y\"  # a comment\nb: 'it''s'   # another\nc: [\"q\" , 'r']\n";
    let node = root(text);
    let span = |key: &str| {
        let value = node.get(key).unwrap();
        &text[value.span.start..value.span.end]
    };
    assert_eq!(span("a"), "\"x \\\" y\"");
    assert_eq!(span("b"), "'it''s'");
    let items = node.get("c").unwrap().as_sequence().unwrap();
    assert_eq!(&text[items[0].span.start..items[0].span.end], "\"q\"");
    assert_eq!(&text[items[1].span.start..items[1].span.end], "'r'");
}

// Issue 7: a chain of anchors, each nesting the previous one, must not build
// a tree deeper than the depth limit (each alias alone is under it).
#[test]
fn aliases_count_toward_the_depth_limit() {
    let wrap = |inner: &str| format!("{}{inner}{}", "[".repeat(100), "]".repeat(100));
    let text = format!("a: &a {}\nb: &b {}\n", wrap("x"), wrap("*a"));
    let loaded = load_str(&text);
    assert_eq!(loaded.diagnostics.len(), 1);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.rule.as_str(), INPUT_LIMIT);
    assert_eq!(&text[d.location.span.start..d.location.span.end], "*a");
}

// Issue 7: a finding on a value an alias wrote points at the alias.
#[test]
fn an_alias_copy_is_located_at_the_alias() {
    let text = "a: &x {k: v}\nb: *x\n";
    let node = root(text);
    let copy = node.get("b").unwrap();
    assert_eq!(copy.span, Span::new(16, 18));
    assert_eq!(copy.get("k").unwrap().span, Span::new(16, 18));
    assert_eq!(node.get("a").unwrap().get("k").unwrap().span, Span::new(10, 11));
}

// Issue 7: a binary file with a `.yaml` name is not a string.
#[test]
fn unprintable_characters_reject_the_file_at_the_first_one() {
    let loaded = load_str("a: b\nc: \u{1}\u{7f}\n");
    assert!(loaded.documents.is_empty());
    assert_eq!(loaded.diagnostics.len(), 1);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.rule.as_str(), YAML_SYNTAX);
    assert_eq!(d.location.span, Span::new(8, 9));
    assert_eq!(
        d.message,
        "invalid YAML: found the unprintable character U+0001; the file was not checked"
    );
    assert!(load_str("\u{feff}a: \u{85}é\u{1F600}\t\r\n").diagnostics.is_empty());
}

// Issue 7: a tab used as indentation is reported on the tab, not after it.
#[test]
fn a_tab_in_indentation_is_pointed_at() {
    let loaded = load_str("a:\n\tb: c\n");
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!(loaded.diagnostics[0].location.span, Span::new(3, 4));
}

// Issue 7: duplicate keys are found through a map, not by rescanning the
// mapping per key; the last of each key wins, as in Helm.
#[test]
fn duplicate_keys_in_a_wide_mapping() {
    let keys: String = (0..20_000).map(|i| format!("k{i}: {i}\n")).collect();
    let loaded = load_str(&format!("{keys}k5: again\nk19999: again\n"));
    let messages: Vec<&str> = loaded.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["duplicate key `k5`", "duplicate key `k19999`"]);
    let root = loaded.documents[0].root.as_ref().unwrap();
    assert_eq!(root.get("k5").unwrap().as_str(), Some("again"));
}

#[test]
fn the_first_unprintable_character_is_found_past_ascii_and_multibyte_text() {
    assert_eq!(first_unprintable("a: b\n\tc: 'd ~'\r\n"), None);
    assert_eq!(first_unprintable("a: é\u{A0}\u{10000}\n"), None);
    assert_eq!(first_unprintable("a: \u{7F}"), Some((3, '\u{7F}')));
    // After a multibyte character, the offset is still in bytes.
    assert_eq!(first_unprintable("é: ü\u{85}x\u{9F}"), Some((9, '\u{9F}')));
    assert_eq!(first_unprintable("x\u{FFFE}"), Some((1, '\u{FFFE}')));
}

/// A generated manifest of CRDs wraps a hundred descriptions at their key's
/// own indentation: every one is relaxed, not only the first few.
#[test]
fn a_file_of_many_wrapped_quoted_scalars_is_read_whole() {
    let text: String = (0..100)
        .map(|i| format!("d{i}:\n  description: \"line {i}\n  wrapped\"\n"))
        .collect();
    let loaded = load_str(&text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let node = loaded.documents[0].root.as_ref().unwrap();
    assert_eq!(
        node.get("d99").unwrap().get("description").unwrap().as_str(),
        Some("line 99 wrapped")
    );
}

// Issue 23: what libyaml (Helm, kubectl) accepts and saphyr does not.
#[test]
fn a_quoted_scalar_may_continue_less_indented_than_its_key() {
    let text = "g:\n  k: \"a very\nlong \\\n  name\"\n  n: 'it''s\n\n x'\nz: 1\n";
    let node = root(text);
    let g = node.get("g").unwrap();
    let k = g.get("k").unwrap();
    assert_eq!(k.as_str(), Some("a very long name"));
    assert_eq!(&text[k.span.start..k.span.end], "\"a very\nlong \\\n  name\"");
    assert_eq!(g.get("n").unwrap().as_str(), Some("it's\nx"));
    assert_eq!(node.get("z").unwrap().scalar(), Some(Scalar::Int(1)));
}

#[test]
fn a_comment_may_follow_a_quoted_scalar_without_a_blank() {
    let node = root("k: \"\"# the chart's default\nl: 'x'#note\nm: [a]#c\n");
    assert_eq!(node.get("k").unwrap().as_str(), Some(""));
    assert_eq!(node.get("l").unwrap().as_str(), Some("x"));
    assert_eq!(node.get("m").unwrap().as_sequence().map(<[Node]>::len), Some(1));
}

#[test]
fn a_duplicate_key_keeps_the_last_value_in_the_first_place() {
    let loaded = load_str("a: 1\nb: 2\na: 3\na: 4\n");
    let messages: Vec<_> = loaded.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages, ["duplicate key `a`", "duplicate key `a`"]);
    // The third `a` is named against the second, which had replaced the first.
    assert_eq!(loaded.diagnostics[1].related[0].location.span, Span::new(10, 11));
    let node = loaded.documents[0].root.as_ref().unwrap();
    let keys: Vec<_> = node
        .as_mapping()
        .unwrap()
        .iter()
        .map(|e| e.key.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(node.get("a").unwrap().scalar(), Some(Scalar::Int(4)));
}

#[test]
fn a_merge_conflict_is_named_at_its_first_marker() {
    let loaded = load_str("a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> main\n");
    let d = &loaded.diagnostics[0];
    assert_eq!(
        d.message,
        "invalid YAML: unresolved merge conflict (`<<<<<<<` marker); the file was not checked"
    );
    assert_eq!(d.location.span, Span::new(5, 12));
}

#[test]
fn a_syntax_error_covers_the_token_it_is_at() {
    let text = "a: [1, 2\n";
    let d = &load_str(text).diagnostics[0];
    assert_eq!(&text[d.location.span.start..d.location.span.end], "2");
    let text = "a: b: c\n";
    let d = &load_str(text).diagnostics[0];
    assert_eq!(&text[d.location.span.start..d.location.span.end], ":");
}

#[test]
fn a_syntax_error_at_the_end_of_the_input_covers_the_last_content_not_a_comment() {
    let text = "a: {b: c  # 'not' closed: \"yet\"\n\n# trailing\n";
    let d = &load_str(text).diagnostics[0];
    assert_eq!(d.location.span, Span::new(7, 8));
}

#[test]
fn a_block_scalar_spans_its_indicator_to_its_last_content_line() {
    let cases = [
        ("a: |\n  one\n  two\n\nb: 1\n", "|\n  one\n  two"),
        ("a: >-\n  one\n  two\n\n\nb: 1\n", ">-\n  one\n  two"),
        ("a: |+ # keep\n  one\n\n\n", "|+ # keep\n  one"),
        ("a: |2\n\n    one  \n", "|2\n\n    one"),
        ("a: &x |\n  one\n", "&x |\n  one"),
        ("a: |\r\n  one\r\n  two\r\n", "|\r\n  one\r\n  two"),
        ("a: |\n  one\n  two", "|\n  one\n  two"),
        ("a: | # nothing\nb: 1\n", "|"),
        (
            "a: |\t# tab before the comment\n  one\n",
            "|\t# tab before the comment\n  one",
        ),
        ("a: |\n  !not a tag\n", "|\n  !not a tag"),
        ("x: | # c\r  text\ra: |\r  one\r", "|\r  one"),
    ];
    for (text, spanned) in cases {
        let node = root(text);
        let value = node.get("a").unwrap();
        assert_eq!(&text[value.span.start..value.span.end], spanned, "{text:?}");
    }
    let node = root("- !!str |\n  x\n- y\n");
    let first = node.as_sequence().and_then(|items| items.first()).unwrap();
    assert_eq!(first.span, Span::new(2, 13));
}
