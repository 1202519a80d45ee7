//! What the targets share: the loader's options, and the check of every
//! diagnostic they get: each span, primary or related, lies inside its
//! file's text and on character boundaries (the renderers slice the text
//! there).

use planelint::diagnostic::{Diagnostic, Location};
use planelint::load::LoadOptions;
use planelint::source::SourceMap;
use planelint::yaml;
use std::path::PathBuf;

/// `check`'s defaults, with `layers` as `.planelint.yaml` would give them.
pub fn options(layers: &[Vec<PathBuf>]) -> LoadOptions<'_> {
    LoadOptions {
        max_file_bytes: 1 << 20,
        yaml_limits: yaml::Limits::default(),
        max_units: 10_000,
        layers,
        done: None,
    }
}

pub fn assert_inside(diagnostics: &[Diagnostic], sources: &SourceMap) {
    for diagnostic in diagnostics {
        let related = diagnostic.related.iter().map(|r| &r.location);
        for location in std::iter::once(&diagnostic.location).chain(related) {
            assert_location(location, sources, diagnostic);
        }
    }
}

fn assert_location(location: &Location, sources: &SourceMap, diagnostic: &Diagnostic) {
    let Some(file) = sources.get(location.source) else {
        panic!("a location in no file: {diagnostic:?}");
    };
    let span = location.span;
    let text = &file.text;
    assert!(
        span.start <= span.end && text.get(span.start..span.end).is_some(),
        "span {span:?} outside the text of {} or not on character boundaries: {diagnostic:?}",
        file.name
    );
}
