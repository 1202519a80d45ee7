//! The YAML loader on arbitrary text: it returns documents and diagnostics,
//! never panics, and every diagnostic span lies inside the text.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use planelint::source::{SourceFile, SourceMap};
use planelint::yaml;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let source = sources.add(SourceFile::new("fuzz.yaml".into(), "fuzz.yaml".into(), Arc::from(text)));
    let loaded = yaml::load(text, source, common::options(&[]).yaml_limits);
    common::assert_inside(&loaded.diagnostics, &sources);
});
