//! The `planelint` binary: parses arguments, runs the library, prints, and
//! maps the outcome to an exit code (0 clean, 1 findings, 2 usage or policy
//! load error, 3 internal error).

mod cli;

use clap::Parser;
use cli::{Cli, Command, Level};
use planelint::check::{self, Options};
use planelint::diagnostic::Severity;
use planelint::report::{self, Format, Report, Style};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    // A panic is a bug: report it as an internal error (exit 3), not a crash.
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(_) => {
            eprintln!("planelint: internal error (a bug); please report it");
            ExitCode::from(3)
        }
    }
}

fn run(cli: Cli) -> u8 {
    let Command::Check(args) = cli.command;
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => {
            eprintln!("planelint: cannot read the working directory: {error}");
            return 3;
        }
    };
    let options = Options {
        paths: args.paths,
        policy_dirs: args.policy_dirs,
        no_builtin: args.no_builtin,
        follow_symlinks: args.follow_symlinks,
        threads: args.threads,
        ..Options::default()
    };
    let started = std::time::Instant::now();
    let run = match check::check(&options, &cwd) {
        Ok(run) => run,
        Err(error) => {
            eprintln!("planelint: {error}");
            return 2;
        }
    };
    if run.files_scanned == 0 && run.diagnostics.is_empty() {
        eprintln!(
            "planelint: warning: no YAML file found in {}",
            describe_paths(&options.paths)
        );
    }
    let fail_level = match args.fail_level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Note => Severity::Note,
    };
    let workspace = env_path("GITHUB_WORKSPACE");
    let report = Report {
        diagnostics: &run.diagnostics,
        sources: &run.sources,
        policies: &run.policies,
        scanned: &run.scanned,
        files_scanned: run.files_scanned,
        execution_successful: !run.policy_load_failed,
        root: &run.root,
        workspace: workspace.as_deref(),
        fail_level,
    };
    for output in &args.outputs {
        let file = File::create(&output.path);
        if let Err(error) = write_to(file, |out| report::render(out, output.format, &report, Style::Plain)) {
            eprintln!("planelint: cannot write {}: {error}", output.path.display());
            return 2;
        }
    }
    let github = args.format == Format::Github || args.outputs.iter().any(|o| o.format == Format::Github);
    if let Some(summary) = env_path("GITHUB_STEP_SUMMARY").filter(|_| github) {
        // GitHub collects the summary from this file; other steps append too.
        let file = OpenOptions::new().append(true).create(true).open(&summary);
        if let Err(error) = write_to(file, |out| report::render_github_summary(out, &report)) {
            eprintln!(
                "planelint: cannot write the step summary {}: {error}",
                summary.display()
            );
            return 2;
        }
    }

    let stdout = std::io::stdout();
    let style = if stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Graphical
    } else {
        Style::Plain
    };
    let mut out = stdout.lock();
    let written = report::render(&mut out, args.format, &report, style);
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        // A closed pipe (`planelint check | head`) is not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return 0,
        Err(error) => {
            eprintln!("planelint: cannot write the report: {error}");
            return 3;
        }
    }
    if args.timings {
        print_timings(&run.timings, started.elapsed());
    }
    run.exit_code(fail_level)
}

fn print_timings(t: &check::Timings, total: std::time::Duration) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let report = total.saturating_sub(t.discover + t.load + t.model + t.compile + t.evaluate);
    eprintln!(
        "timings: discover {:.1} ms, read+parse {:.1} ms, model {:.1} ms, compile {:.1} ms, evaluate {:.1} ms, \
         report {:.1} ms, total {:.1} ms",
        ms(t.discover),
        ms(t.load),
        ms(t.model),
        ms(t.compile),
        ms(t.evaluate),
        ms(report),
        ms(total)
    );
}

/// A path from the environment; unset and empty are the same.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn write_to(
    file: std::io::Result<File>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(file?);
    render(&mut out)?;
    out.flush()
}

fn describe_paths(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
