//! The manifest reader: arbitrary text loaded as YAML and folded into models,
//! then evaluated by the built-in policy pack. Never panics; every span of a
//! finding lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use planelint::engine::{Engine, Limits};
use planelint::model::{self, COLLECTIONS, LoadedFile};
use planelint::policy::{self, Origin};
use planelint::source::{SourceFile, SourceMap};
use planelint::yaml;
use std::sync::Arc;
use std::time::Duration;

thread_local! {
    /// The built-in pack, compiled once: compiling CEL costs far more than a run.
    static ENGINE: Engine = {
        let mut sources = SourceMap::default();
        let mut policies = Vec::new();
        for (name, text) in policy::BUILTIN {
            let id = sources.add(SourceFile::new(name.to_string(), name.into(), Arc::from(*text)));
            policies.extend(policy::read(&sources, id, Origin::BuiltIn, COLLECTIONS).0);
        }
        let limits = Limits {
            deadline: Duration::from_millis(200),
            ..Limits::default()
        };
        let (engine, errors) = Engine::compile(policies, &sources, limits);
        assert!(errors.is_empty(), "the built-in pack compiles");
        engine
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let source = sources.add(SourceFile::new("fuzz.yaml".into(), "fuzz.yaml".into(), Arc::from(text)));
    let loaded = yaml::load(text, source, yaml::Limits::default());
    let mut diagnostics = loaded.diagnostics;
    let files = [LoadedFile {
        source,
        root_relative: "fuzz.yaml".into(),
        documents: loaded.documents,
    }];
    let models = model::build(&files, &mut diagnostics);

    ENGINE.with(|engine| {
        for model in &models {
            diagnostics.extend(engine.evaluate(model));
        }
    });
    for diagnostic in diagnostics.iter().filter(|d| d.location.source == source) {
        let span = diagnostic.location.span;
        assert!(
            span.start <= span.end && span.end <= text.len(),
            "span {span:?} outside the text"
        );
    }
});
