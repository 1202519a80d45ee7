//! The Helm values adapter on arbitrary values files layered into one
//! cluster (`layers:` of `.planelint.yaml`): the input, split at NUL bytes,
//! is up to four files of one group, later wins. They are written to a
//! directory of this process and loaded as `check` loads them, so references
//! between layers (`{{ .Values.x }}`) and their bounds are exercised too.
//! Never panics; every span lies inside its file.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use planelint::discover::Found;
use planelint::engine::ENGINE_STACK_BYTES;
use planelint::load;
use planelint::model;
use planelint::parallel::{self, Pool};
use planelint::source::SourceMap;
use std::path::PathBuf;
use std::sync::LazyLock;

const MAX_LAYERS: usize = 4;

static POOL: LazyLock<Pool> = LazyLock::new(|| parallel::pool(1, ENGINE_STACK_BYTES).expect("a loading thread"));

static DIRECTORY: LazyLock<PathBuf> = LazyLock::new(|| {
    let directory = std::env::temp_dir().join(format!("planelint-fuzz-values-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a directory for the layers");
    directory
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let found: Vec<Found> = text
        .splitn(MAX_LAYERS, '\0')
        .enumerate()
        .map(|(at, layer)| {
            let name = format!("values-{at}.yaml");
            let path = DIRECTORY.join(&name);
            std::fs::write(&path, layer).expect("a layer written");
            Found { path, name }
        })
        .collect();
    let layers = [found.iter().map(|file| file.path.clone()).collect::<Vec<_>>()];
    let options = common::options(&layers);
    let mut sources = SourceMap::default();
    let mut loaded = load::load(&found, &DIRECTORY, &mut sources, &options, &POOL);
    model::build(loaded.files, &mut loaded.diagnostics);
    common::assert_inside(&loaded.diagnostics, &sources);
});
