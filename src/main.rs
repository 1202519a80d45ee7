//! The `planelint` binary: parses arguments, runs the library, prints, and
//! maps the outcome to an exit code (0 clean, 1 findings, 2 usage or policy
//! load error, 3 internal error).

mod cli;

use clap::Parser;
use cli::{Cli, Command, Format, Level};
use planelint::check::{self, Options};
use planelint::diagnostic::Severity;
use planelint::report::{self, Style};
use std::io::{IsTerminal, Write};
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
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Format::Human => {
            let style = if stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
                Style::Graphical
            } else {
                Style::Plain
            };
            report::render_human(&mut out, &run.diagnostics, &run.sources, run.files_scanned, style)
        }
        Format::Json => report::render_json(&mut out, &run.diagnostics, &run.sources, run.files_scanned),
    };
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
        let t = &run.timings;
        let report = started
            .elapsed()
            .saturating_sub(t.discover + t.load + t.model + t.compile + t.evaluate);
        eprintln!(
            "timings: discover {:.1} ms, read+parse {:.1} ms, model {:.1} ms, compile {:.1} ms, evaluate {:.1} ms, report {:.1} ms, total {:.1} ms",
            ms(t.discover),
            ms(t.load),
            ms(t.model),
            ms(t.compile),
            ms(t.evaluate),
            ms(report),
            ms(started.elapsed())
        );
    }
    let fail_level = match args.fail_level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Note => Severity::Note,
    };
    run.exit_code(fail_level)
}

fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn describe_paths(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
