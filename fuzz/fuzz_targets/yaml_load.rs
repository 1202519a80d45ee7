//! The YAML loader on arbitrary text: it returns documents and diagnostics,
//! never panics, and every span, of a diagnostic or of a node, lies inside
//! the text on character boundaries.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use planelint::source::{SourceFile, SourceMap};
use planelint::yaml::{self, Node, NodeKind};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let source = sources.add(SourceFile::new("fuzz.yaml".into(), "fuzz.yaml".into(), Arc::from(text)));
    let loaded = yaml::load(text, source, common::options(&[]).yaml_limits);
    common::assert_inside(&loaded.diagnostics, &sources);
    let mut nodes: Vec<&Node> = loaded.documents.iter().filter_map(|d| d.root.as_ref()).collect();
    while let Some(node) = nodes.pop() {
        let span = node.span;
        assert!(
            span.start <= span.end && text.get(span.start..span.end).is_some(),
            "node span {span:?} outside the text or not on character boundaries"
        );
        match &node.kind {
            NodeKind::Scalar { .. } => {}
            NodeKind::Sequence(items) => nodes.extend(items),
            NodeKind::Mapping(entries) => nodes.extend(entries.iter().flat_map(|e| [&e.key, &e.value])),
        }
    }
});
