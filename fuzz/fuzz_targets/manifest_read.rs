//! Arbitrary text read as a file of a repository (every adapter: manifests,
//! Helm values, Flyte config, wrapped manifests), folded into models, then
//! evaluated by the built-in policy pack, the findings rendered as a
//! terminal and a log show them (snippets, windows on long lines). Never
//! panics; every span of a finding lies inside its file.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use planelint::engine::{ENGINE_STACK_BYTES, Engine, Evaluator, Limits};
use planelint::load;
use planelint::model;
use planelint::parallel::{self, Pool};
use planelint::policy::{self, Origin};
use planelint::report::{Style, Totals, render_human};
use planelint::source::{SourceFile, SourceMap};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The built-in pack, compiled once (compiling CEL costs far more than a
/// run), with the sources its policies point into.
static ENGINE: LazyLock<(Engine, SourceMap, Pool)> = LazyLock::new(|| {
    let mut sources = SourceMap::default();
    let mut policies = Vec::new();
    for (name, text) in policy::BUILTIN {
        let id = sources.add(SourceFile::new(name.to_string(), name.into(), Arc::from(*text)));
        policies.extend(policy::read(&sources, id, Origin::BuiltIn).0);
    }
    let limits = Limits {
        deadline: Duration::from_millis(200),
        ..Limits::default()
    };
    let (engine, errors) = Engine::compile(policies, &sources, limits, |_| true);
    assert!(errors.is_empty(), "the built-in pack compiles: {errors:?}");
    let pool = parallel::pool(1, ENGINE_STACK_BYTES).expect("a thread for the engine");
    (engine, sources, pool)
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (engine, builtin, pool) = &*ENGINE;
    let options = common::options(&[]);
    // The file's id follows the policies', so one map holds every location.
    let mut sources = builtin.clone();
    let (file, mut diagnostics) = load::load_text("fuzz.yaml", text, &mut sources, &options);
    for model in model::build(vec![file], &mut diagnostics) {
        diagnostics.extend(engine.evaluate(&model, pool, Evaluator::Native).diagnostics);
    }
    common::assert_inside(&diagnostics, &sources);
    for style in [Style::Plain, Style::Graphical] {
        let rendered = render_human(&mut std::io::sink(), &diagnostics, &sources, &Totals::default(), style);
        assert!(rendered.is_ok(), "rendering failed: {rendered:?}");
    }
});
