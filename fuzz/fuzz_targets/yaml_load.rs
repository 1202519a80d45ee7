//! The YAML loader on arbitrary text: it returns documents and diagnostics,
//! never panics, and every diagnostic span lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use planelint::source::SourceId;
use planelint::yaml::{self, Limits};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = yaml::load(text, SourceId(0), Limits::default());
    for diagnostic in &loaded.diagnostics {
        let span = diagnostic.location.span;
        assert!(
            span.start <= span.end && span.end <= text.len(),
            "span {span:?} outside the text"
        );
    }
});
