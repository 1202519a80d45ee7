//! Runs the pipeline: discover -> load -> model -> evaluate. The only module
//! that knows every stage.

use crate::diagnostic::{
    self, Diagnostic, FILE_UNREADABLE, INPUT_LIMIT, Location, POLICY_ERROR, Severity, YAML_SYNTAX,
};
use crate::discover::{self, DiscoverError, Found};
use crate::engine::{self, Engine};
use crate::model::{self, COLLECTIONS, LoadedFile};
use crate::policy::{self, Origin, Policy};
use crate::source::{SourceFile, SourceId, SourceMap, Span};
use crate::yaml;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Clone, Debug)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
    pub no_builtin: bool,
    pub follow_symlinks: bool,
    pub max_file_bytes: u64,
    pub yaml_limits: yaml::Limits,
    pub engine_limits: engine::Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            paths: vec![PathBuf::from(".")],
            policy_dirs: Vec::new(),
            no_builtin: false,
            follow_symlinks: false,
            max_file_bytes: 64 << 20,
            yaml_limits: yaml::Limits::default(),
            engine_limits: engine::Limits::default(),
        }
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Run {
    pub sources: SourceMap,
    /// Sorted by file, line, column, rule and message.
    pub diagnostics: Vec<Diagnostic>,
    pub policies: Vec<Policy>,
    pub files_scanned: usize,
    /// YAML files and links met but not checked: unreadable, over the size
    /// limit, not UTF-8, not regular files, or links not followed.
    pub skipped_files: usize,
    /// A policy failed to load: the run exits 2.
    pub policy_load_failed: bool,
}

impl Run {
    /// 2 when a policy failed to load, 1 when a finding is at or above
    /// `fail_level`, else 0.
    pub fn exit_code(&self, fail_level: Severity) -> u8 {
        if self.policy_load_failed {
            2
        } else if self.diagnostics.iter().any(|d| d.severity >= fail_level) {
            1
        } else {
            0
        }
    }
}

/// Failures that stop a run before it starts: usage errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("policy directory {path}: {reason}")]
    PolicyDir { path: PathBuf, reason: String },
    #[error("the policy engine failed: {0}")]
    Engine(String),
}

pub fn check(options: &Options, cwd: &Path) -> Result<Run, CheckError> {
    let mut run = Run::default();
    let discovered = discover::discover(&options.paths, options.follow_symlinks, cwd)?;
    let mut policy_sources = Vec::new();
    if !options.no_builtin {
        for (name, text) in policy::BUILTIN {
            let file = SourceFile::new(format!("<builtin>/{name}"), PathBuf::from(name), Arc::from(*text));
            policy_sources.push((run.sources.add(file), Origin::BuiltIn));
        }
    }
    for dir in &options.policy_dirs {
        for path in policy_files(dir)? {
            let policy_dir_error = |reason: String| CheckError::PolicyDir {
                path: path.clone(),
                reason,
            };
            let bytes = read_bounded(&path, options.max_file_bytes)
                .map_err(|e| policy_dir_error(e.to_string()))?
                .map_err(|size| policy_dir_error(format!("the file is {size} bytes, over the limit")))?;
            let text = String::from_utf8(bytes).map_err(|_| policy_dir_error("not valid UTF-8".into()))?;
            let file = SourceFile::new(discover::display_name(&path, cwd), path, Arc::from(text));
            policy_sources.push((run.sources.add(file), Origin::File));
        }
    }

    let mut policies: Vec<Policy> = Vec::new();
    let mut load_diagnostics = Vec::new();
    for (source, origin) in policy_sources {
        let (read, mut problems) = policy::read(&run.sources, source, origin, COLLECTIONS);
        load_diagnostics.append(&mut problems);
        for policy in read {
            if let Some(first) = policies.iter().find(|p| p.id == policy.id) {
                load_diagnostics.push(
                    Diagnostic::error(
                        POLICY_ERROR,
                        format!("a second policy named `{}`", policy.id),
                        policy.location,
                    )
                    .with_related(first.location, "first defined here"),
                );
            } else {
                policies.push(policy);
            }
        }
    }
    policies.sort_by(|a, b| a.id.cmp(&b.id));

    let mut files = Vec::new();
    for found in &discovered.files {
        files.push(load_file(found, options, &mut run));
    }
    run.skipped_files += discovered.skipped_links + discovered.unreadable.len();
    for unreadable in &discovered.unreadable {
        let file = SourceFile::new(
            unreadable.found.name.clone(),
            unreadable.found.path.clone(),
            Arc::from(""),
        );
        let source = run.sources.add(file);
        run.diagnostics.push(Diagnostic::error(
            FILE_UNREADABLE,
            format!("could not read {}: {}", unreadable.found.name, unreadable.reason),
            Location {
                source,
                span: Span::default(),
            },
        ));
    }
    run.files_scanned = discovered.files.len();

    working_on("building the model".into());
    let models = model::build(&files, &mut run.diagnostics);
    drop(files);

    // Compiling and evaluating recurse over CEL ASTs: do it on a thread
    // whose stack the engine's limits are sized for.
    let sources = &run.sources;
    let limits = options.engine_limits;
    let evaluated = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("planelint-engine".into())
            .stack_size(engine::ENGINE_STACK_BYTES)
            .spawn_scoped(scope, || {
                working_on("compiling the policies".into());
                let (engine, compile_errors) = Engine::compile(policies, sources, limits);
                let mut diagnostics = Vec::new();
                for model in &models {
                    let name = model.name.as_deref().unwrap_or("the files without a DataPlane");
                    working_on(format!("the policies on the model of {name}"));
                    diagnostics.append(&mut engine.evaluate(model));
                }
                let policies: Vec<Policy> = engine.policies().cloned().collect();
                (policies, compile_errors, diagnostics)
            })
            .map_err(|e| CheckError::Engine(e.to_string()))?
            .join()
            .map_err(|_| CheckError::Engine("the engine thread panicked".into()))
    })?;
    let (loaded_policies, compile_errors, mut findings) = evaluated;
    run.policy_load_failed = !load_diagnostics.is_empty() || !compile_errors.is_empty();
    run.policies = loaded_policies;
    run.diagnostics.extend(load_diagnostics);
    run.diagnostics.extend(compile_errors);
    run.diagnostics.append(&mut findings);
    diagnostic::sort(&mut run.diagnostics, &run.sources);
    Ok(run)
}

fn policy_files(dir: &Path) -> Result<Vec<PathBuf>, CheckError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CheckError::PolicyDir {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && discover::is_yaml(p))
        .collect();
    files.sort();
    Ok(files)
}

/// What the run is working on (a file, or the policies of a model): named by
/// the last-resort panic message, so a crash report says which input caused it.
static CURRENT_WORK: Mutex<String> = Mutex::new(String::new());

/// What the run was working on last, for a panic message.
pub fn current_work() -> String {
    CURRENT_WORK.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

fn working_on(what: String) {
    *CURRENT_WORK.lock().unwrap_or_else(PoisonError::into_inner) = what;
}

/// Reads and parses one file; problems become diagnostics on it, and a file
/// whose text could not be checked at all counts as skipped.
fn load_file(found: &Found, options: &Options, run: &mut Run) -> LoadedFile {
    working_on(found.name.clone());
    // Fault injection for the test of the last-resort guard; debug builds only.
    #[cfg(debug_assertions)]
    if std::env::var_os("PLANELINT_TEST_PANIC_ON").is_some_and(|name| name == found.name.as_str()) {
        panic!("a panic injected by a test");
    }
    let fail = |run: &mut Run, text: Arc<str>, rule: &str, message: String, span: Span| -> SourceId {
        let source = run
            .sources
            .add(SourceFile::new(found.name.clone(), found.path.clone(), text));
        run.diagnostics
            .push(Diagnostic::error(rule, message, Location { source, span }));
        run.skipped_files += 1;
        source
    };
    let empty = |source| LoadedFile {
        source,
        root_relative: found.name.clone(),
        documents: Vec::new(),
    };
    let bytes = match read_bounded(&found.path, options.max_file_bytes) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(size)) => {
            let message = format!(
                "the file is {size} bytes, over the limit of {} bytes; it was not checked",
                options.max_file_bytes
            );
            return empty(fail(run, Arc::from(""), INPUT_LIMIT, message, Span::default()));
        }
        Err(error) => {
            let message = format!("could not read {}: {error}", found.name);
            return empty(fail(run, Arc::from(""), FILE_UNREADABLE, message, Span::default()));
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let text: Arc<str> = Arc::from(String::from_utf8_lossy(error.as_bytes()).as_ref());
            let message = "the file is not valid UTF-8; it was not checked".to_string();
            return empty(fail(run, text, YAML_SYNTAX, message, Span::new(at, at + 1)));
        }
    };
    let text: Arc<str> = Arc::from(text);
    let source = run
        .sources
        .add(SourceFile::new(found.name.clone(), found.path.clone(), text.clone()));
    let loaded = yaml::load(&text, source, options.yaml_limits);
    run.diagnostics.extend(loaded.diagnostics);
    LoadedFile {
        source,
        root_relative: found.name.clone(),
        documents: loaded.documents,
    }
}

/// Reads a regular file of at most `max` bytes: `Ok(Err(size))` when it is
/// larger. The size is checked on the open handle and the read is bounded
/// too, so a file that grows (or is swapped) after discovery cannot exhaust
/// memory, and a handle that is not a regular file is never read.
fn read_bounded(path: &Path, max: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other(discover::NOT_REGULAR));
    }
    if metadata.len() > max {
        return Ok(Err(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    Ok(if read > max { Err(read) } else { Ok(bytes) })
}
