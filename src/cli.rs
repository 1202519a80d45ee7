//! The command line, as clap derive types only.

use clap::{Parser, Subcommand, ValueEnum};
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = Level::Error)]
    pub fail_level: Level,
    /// Follow symbolic links (never out of the scanned root).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip (with an `input-limit` finding) files larger than this.
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Deepest nesting of YAML sequences and mappings, aliases expanded.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Nodes that YAML aliases may add to one file, all expansions together.
    #[arg(long, value_name = "N")]
    pub max_alias_nodes: Option<usize>,
    /// YAML documents in one file.
    #[arg(long, value_name = "N")]
    pub max_documents: Option<usize>,
    /// YAML nodes (scalars, sequences, mappings) written in one file.
    #[arg(long, value_name = "N")]
    pub max_nodes: Option<usize>,
    /// Comprehension steps one policy may take on one entity.
    #[arg(long, value_name = "N")]
    pub max_eval_steps: Option<u64>,
    /// Wall time one policy may take on one entity, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub eval_deadline_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Error,
    Warning,
    Note,
}
