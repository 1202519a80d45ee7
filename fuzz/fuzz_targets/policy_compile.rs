//! The policy reader and compiler on arbitrary text, then an evaluation of
//! what compiled on a small fixed model, on a thread with the engine's stack
//! (as `check` does). Never panics, never overflows the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use planelint::engine::{ENGINE_STACK_BYTES, Engine, Limits};
use planelint::model::{self, COLLECTIONS, LoadedFile};
use planelint::policy::{self, Origin};
use planelint::source::{SourceFile, SourceMap};
use planelint::yaml;
use std::sync::Arc;
use std::time::Duration;

const MODEL: &str = include_str!("../../fixtures/seed-table/dataplane.yaml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = SourceMap::default();
    let model_source = sources.add(SourceFile::new(
        "model.yaml".into(),
        "model.yaml".into(),
        Arc::from(MODEL),
    ));
    let policy_source = sources.add(SourceFile::new(
        "policy.yaml".into(),
        "policy.yaml".into(),
        Arc::from(text),
    ));
    let mut diagnostics = Vec::new();
    let files = [LoadedFile {
        source: model_source,
        root_relative: "model.yaml".into(),
        documents: yaml::load(MODEL, model_source, yaml::Limits::default()).documents,
    }];
    let models = model::build(&files, &mut diagnostics);
    let (policies, _) = policy::read(&sources, policy_source, Origin::File, COLLECTIONS);
    let limits = Limits {
        deadline: Duration::from_millis(200),
        ..Limits::default()
    };
    let sources = &sources;
    let joined = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(ENGINE_STACK_BYTES)
            .spawn_scoped(scope, || {
                let (engine, _) = Engine::compile(policies, sources, limits);
                for model in &models {
                    engine.evaluate(model);
                }
            })
            .map(|handle| handle.join())
    });
    match joined {
        Ok(Ok(())) => {}
        // A panic on the engine thread is a finding: re-raise it here.
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(error) => panic!("cannot spawn the engine thread: {error}"),
    }
});
