//! The policy reader and compiler on arbitrary text, then an evaluation of
//! what compiled on the seed table's model, on the engine's pool (as `check`
//! runs it). Never panics, never overflows the stack.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use planelint::engine::{ENGINE_STACK_BYTES, Engine, Evaluator, Limits};
use planelint::load;
use planelint::model;
use planelint::parallel::{self, Pool};
use planelint::policy::{self, Origin};
use planelint::source::{SourceFile, SourceMap};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

const MODEL: &str = include_str!("../../fixtures/seed-table/dataplane.yaml");

static POOL: LazyLock<Pool> = LazyLock::new(|| parallel::pool(1, ENGINE_STACK_BYTES).expect("a thread for the engine"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = common::options(&[]);
    let mut sources = SourceMap::default();
    let (file, mut diagnostics) = load::load_text("model.yaml", MODEL, &mut sources, &options);
    let models = model::build(vec![file], &mut diagnostics);
    let policy_source = sources.add(SourceFile::new(
        "policy.yaml".into(),
        "policy.yaml".into(),
        Arc::from(text),
    ));
    let (policies, read_errors) = policy::read(&sources, policy_source, Origin::File);
    diagnostics.extend(read_errors);
    let limits = Limits {
        deadline: Duration::from_millis(200),
        ..Limits::default()
    };
    // Compiled on the engine's thread too: a deep expression recurses there.
    let (engine, compile_errors) = POOL.install(|| Engine::compile(policies, &sources, limits, |_| true));
    diagnostics.extend(compile_errors);
    for model in &models {
        diagnostics.extend(engine.evaluate(model, &POOL, Evaluator::Native).diagnostics);
    }
    common::assert_inside(&diagnostics, &sources);
});
