//! The subcommands that run the library: one module each for `check`,
//! `report` and `graph`, `rules` and `explain`, and `test`; here, what they
//! share (the settings, standard output, files written, today's date).

mod check;
mod report;
mod rules;
mod test;

pub use check::run_check;
pub use report::run_report;
pub use rules::{Rules, run_rules};
pub use test::run_test;

use planelint::check::{CheckError, ConfigSource, Options};
use planelint::config::{self, Flags, Settings};
use planelint::date::Date;
use planelint::diagnostic::Severity;
use planelint::exit::Exit;
use planelint::report::{self as reports, Format, Report, Style};
use planelint::source::SourceMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::cli::{LimitArgs, PolicyArgs};

/// Prints `text` to standard output; a closed pipe is not an error.
pub fn print_text(text: &str) -> Exit {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Exit::Clean,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Exit::Clean,
        Err(error) => {
            eprintln!("planelint: cannot write to standard output: {error}");
            Exit::Internal
        }
    }
}

/// The effective settings ([`config::load`]) of a command that lints no
/// paths. A broken config file is reported in `format` and gives
/// `Err(Exit::Usage)`.
pub fn settings(policy: &PolicyArgs, flags: Flags, format: Format, cwd: &Path) -> Result<(Settings, SourceMap), Exit> {
    match config::load(policy.config.clone(), flags, cwd) {
        Ok(loaded) => Ok(loaded),
        Err(error) => Err(config_error(error.into(), format, cwd)),
    }
}

/// The config source of a command that lints paths: each root's own
/// `.planelint.yaml`, or `--config`, with `flags` merged in.
pub fn config_source(policy: &PolicyArgs, flags: Flags) -> ConfigSource {
    ConfigSource {
        explicit: policy.config.clone(),
        flags,
    }
}

/// Reports an error that stopped a run before it started; the exit code. A
/// broken config file is reported in `format`, with its problems.
pub fn config_error(error: CheckError, format: Format, cwd: &Path) -> Exit {
    let (sources, source, problems) = match error {
        CheckError::ConfigInvalid {
            sources,
            file,
            problems,
        } => (sources, file, problems),
        // The engine failing is a bug (its panic was reported already).
        CheckError::Engine(_) => {
            eprintln!("planelint: {error}");
            return Exit::Internal;
        }
        other => {
            eprintln!("planelint: {other}");
            return Exit::Usage;
        }
    };
    let report = Report {
        diagnostics: &problems,
        suppressed: &[],
        sources: &sources,
        policies: &[],
        scanned: &[source],
        files_scanned: 0,
        skipped_files: 0,
        skipped: &[],
        documents_read: 0,
        unread: &[],
        execution_successful: false,
        root: cwd,
        workspace: None,
        fail_level: Severity::Error,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    if let Err(error) = reports::render(&mut out, format, &report, Style::Plain).and_then(|()| out.flush()) {
        eprintln!("planelint: cannot write the report: {error}");
    }
    Exit::Usage
}

pub fn options(paths: Vec<PathBuf>, settings: &Settings, policy: &PolicyArgs, cwd: &Path) -> Options {
    Options::from_settings(paths, settings, policy.no_builtin, cwd)
}

/// `options` with the limits the flags set; the others keep their defaults.
pub fn with_limits(options: Options, limits: &LimitArgs) -> Options {
    let (yaml, engine) = (options.yaml_limits, options.engine_limits);
    Options {
        max_file_bytes: limits.max_file_size.unwrap_or(options.max_file_bytes),
        max_units: limits.max_units.unwrap_or(options.max_units),
        yaml_limits: planelint::yaml::Limits {
            max_depth: limits.max_depth.unwrap_or(yaml.max_depth),
            max_alias_nodes: limits.max_alias_nodes.unwrap_or(yaml.max_alias_nodes),
            max_documents: limits.max_documents.unwrap_or(yaml.max_documents),
            max_nodes: limits.max_nodes.unwrap_or(yaml.max_nodes),
        },
        engine_limits: planelint::engine::Limits {
            max_steps: limits.max_eval_steps.unwrap_or(engine.max_steps),
            max_built_bytes: limits.max_eval_bytes.unwrap_or(engine.max_built_bytes),
            deadline: limits
                .eval_deadline_ms
                .map_or(engine.deadline, std::time::Duration::from_millis),
            ..engine
        },
        ..options
    }
}

/// Today's date (UTC) from the system clock.
pub fn today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days_since_epoch(i64::try_from(seconds / 86_400).unwrap_or(0))
}

/// Writes `path` whole or not at all: into a file beside it that is then
/// renamed over it, so that an interrupted run (Ctrl-C, a full disk) never
/// leaves a truncated report or baseline where the last good one was. A
/// path that is not a regular file (`/dev/stdout`, a pipe) is written in
/// place.
pub fn write_file(path: &Path, render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
    if special {
        return write_to(File::create(path), render);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.planelint-{}.tmp", std::process::id()));
    let written = write_to(File::create(&temporary), render).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

pub fn write_to(
    file: std::io::Result<File>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(file?);
    render(&mut out)?;
    out.flush()
}
