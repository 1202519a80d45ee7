//! The command line, as clap derive types only.

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
use planelint::date::Date;
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
    Check(Box<CheckArgs>),
    /// List every rule: id, severity, origin and summary.
    Rules(RulesArgs),
    /// Describe a rule: what it reports, why, and how to fix it.
    Explain(ExplainArgs),
    /// Run policy tests: fixture repos whose lines carry `# expect: rule-id` markers.
    Test(TestArgs),
    /// Write a starter `.planelint.yaml` and a sample `DataPlane` manifest.
    Init(InitArgs),
    /// Print the JSON Schema of a file kind.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
    /// Write the audit report: the isolation matrix, the cluster pools, a diagram and every finding.
    Report(ReportArgs),
    /// Print the diagram of units, accounts, clusters, pools and metadata buckets as DOT or Mermaid.
    Graph(GraphArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Markdown,
    /// The model as data: every entity and field with its file, line and column.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Files or directories to report on.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// The file to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Files or directories to draw.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Diagram format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The limits that bound a run against hostile or runaway input; each
/// default is in docs/usage.md.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitArgs {
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
    /// Isolation units (domain/project pairs) one DataPlane may make.
    #[arg(long, value_name = "N")]
    pub max_units: Option<usize>,
    /// Comprehension steps one policy may take on one entity.
    #[arg(long, value_name = "N")]
    pub max_eval_steps: Option<u64>,
    /// Bytes of strings and lists one policy may build on one entity.
    #[arg(long, value_name = "BYTES")]
    pub max_eval_bytes: Option<u64>,
    /// Wall time one policy may take on one entity, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub eval_deadline_ms: Option<u64>,
}

/// Where rules come from: the config file, policy directories, the built-in pack.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// The config file to use for every path, instead of the nearest `.planelint.yaml` at or above each.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// A directory of policy files to add to the built-in pack and the config file's `policies` (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub policy_dirs: Vec<PathBuf>,
    /// Leave out the built-in policy pack.
    #[arg(long)]
    pub no_builtin: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to lint.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the effective configuration, with where each value came from, and exit.
    #[arg(long)]
    pub show_config: bool,
    /// Output format on standard output [default: `format` of the config file, else human].
    #[arg(long, value_parser = format_parser())]
    pub format: Option<Format>,
    /// Also write a report in FORMAT to the file PATH (repeatable), e.g. `--output sarif=planelint.sarif`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<Output>,
    /// The lowest severity that makes the run fail (exit 1) [default: `failLevel` of the config file, else error].
    #[arg(long, value_enum)]
    pub fail_level: Option<Level>,
    /// Report only these rules (comma-separated).
    #[arg(long, value_name = "RULE,...", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Never report these rules (comma-separated).
    #[arg(long, value_name = "RULE,...", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Hide the findings recorded in this baseline file; show only new ones.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
    /// Follow symbolic links (never out of the scanned root).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// List on standard error every YAML file left out (ignored, excluded, a link not followed, a Helm template) and why.
    #[arg(long)]
    pub show_skipped: bool,
    /// List on standard error every YAML document that planelint did not read (no manifest, values file, Flyte config or flytectl file), with a guess of what it is.
    #[arg(long)]
    pub show_unread: bool,
    /// Threads that read and parse the files and evaluate the policies
    /// (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
    /// Print the time spent in each pipeline stage to standard error.
    #[arg(long)]
    pub timings: bool,
    /// The date `until=` of suppressions is compared with (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", hide = true, value_parser = parse_date)]
    pub today: Option<Date>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// How policies are evaluated: `native` (cel's interpreter where native evaluation cannot), or `cel` only.
    #[arg(long, value_enum, default_value_t = EvaluatorArg::Native, hide = true)]
    pub evaluator: EvaluatorArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EvaluatorArg {
    Native,
    Cel,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format: a table, JSON (for scripts), or a Markdown table linking each built-in rule's page.
    #[arg(long, value_enum, default_value_t = RulesFormat::Human)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The rule id.
    pub rule: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Directories of fixture repos: a directory named `fires` or `quiet`, or holding a YAML file, is one repo;
    /// others are searched.
    #[arg(default_value = ".")]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format: human or junit.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Human,
    Junit,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write the files in.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// The file kind.
    #[arg(value_enum)]
    pub kind: SchemaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A `planelint/v1` manifest: DataPlane, ClusterPool or Cluster.
    Manifest,
    /// A policy file.
    Policy,
    /// `.planelint.yaml`.
    Config,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.map(Format::name)).try_map(|s| s.parse::<Format>())
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("expected a date YYYY-MM-DD, got `{text}`"))
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
