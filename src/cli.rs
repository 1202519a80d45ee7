//! The command line, as clap derive types only.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
use planelint::report::Format;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "planelint",
    version,
    about = "Lint the isolation and metadata-sharing layout of Union.ai BYOC / Flyte data planes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint config repos: every isolation and metadata-sharing violation, at its exact line and column.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to lint.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// A directory of policy files to add to the built-in pack (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub policy_dirs: Vec<PathBuf>,
    /// Leave out the built-in policy pack.
    #[arg(long)]
    pub no_builtin: bool,
    /// Output format on standard output.
    #[arg(
        long,
        default_value = "human",
        value_parser = PossibleValuesParser::new(Format::ALL.map(Format::name)).try_map(|s| s.parse::<Format>())
    )]
    pub format: Format,
    /// Also write a report in FORMAT to the file PATH (repeatable), e.g. `--output sarif=planelint.sarif`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<Output>,
    /// The lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = Level::Error)]
    pub fail_level: Level,
    /// Follow symbolic links (never out of the scanned root).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Threads that read and parse files (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
    /// Print the time spent in each pipeline stage to standard error.
    #[arg(long)]
    pub timings: bool,
}

/// One `--output FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub path: PathBuf,
}

fn parse_output(text: &str) -> Result<Output, String> {
    let (format, path) = text
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, got `{text}`"))?;
    if path.is_empty() {
        return Err(format!("no PATH in `{text}`"));
    }
    Ok(Output {
        format: format.parse()?,
        path: PathBuf::from(path),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Error,
    Warning,
    Note,
}
