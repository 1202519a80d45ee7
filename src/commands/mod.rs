//! The subcommands that run the library: one module each for `check`,
//! `report` and `graph`, `rules` and `explain`, and `test`; here, what they
//! share (the settings, standard output, files written, today's date).

mod check;
mod report;
mod rules;
mod test;

pub use check::run_check;
pub use report::run_report;
pub use rules::run_rules;
pub use test::run_test;

use planelint::check::Options;
use planelint::config::{self, Flags, Settings};
use planelint::diagnostic::Severity;
use planelint::report::{self as reports, Format, Report, Style};
use planelint::source::SourceMap;
use planelint::suppress::Date;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::cli::PolicyArgs;

/// Prints `text` to standard output; a closed pipe is not an error.
pub fn print_text(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("planelint: cannot write to standard output: {error}");
            3
        }
    }
}

/// The effective settings ([`config::load`]). A broken config file is
/// reported in `format` and gives `Err(2)`.
pub fn settings(policy: &PolicyArgs, flags: Flags, format: Format, cwd: &Path) -> Result<(Settings, SourceMap), u8> {
    let (sources, source, problems) =
        match config::load(policy.config.clone(), flags, &Format::ALL.map(Format::name), cwd) {
            Ok(loaded) => return Ok(loaded),
            Err(config::LoadError::Unreadable { path, error }) => {
                eprintln!("planelint: cannot read the config file {}: {error}", path.display());
                return Err(2);
            }
            Err(config::LoadError::Invalid {
                sources,
                source,
                problems,
            }) => (sources, source, problems),
        };
    let report = Report {
        diagnostics: &problems,
        suppressed: &[],
        sources: &sources,
        policies: &[],
        scanned: &[source],
        files_scanned: 0,
        skipped_files: 0,
        execution_successful: false,
        root: cwd,
        workspace: None,
        fail_level: Severity::Error,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    if let Err(error) = reports::render(&mut out, format, &report, Style::Plain).and_then(|()| out.flush()) {
        eprintln!("planelint: cannot write the report: {error}");
    }
    Err(2)
}

pub fn options(paths: Vec<PathBuf>, settings: &Settings, policy: &PolicyArgs, cwd: &Path) -> Options {
    Options::from_settings(paths, settings, policy.no_builtin, cwd)
}

/// Today's date (UTC) from the system clock.
pub fn today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days_since_epoch(i64::try_from(seconds / 86_400).unwrap_or(0))
}

pub fn write_to(
    file: std::io::Result<File>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(file?);
    render(&mut out)?;
    out.flush()
}
