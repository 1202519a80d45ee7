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
    // A panic is a bug: report it as an internal error (exit 3), not a crash,
    // naming what was being processed. The hook runs on whichever thread
    // panicked (the engine's too); the text may quote scanned input.
    std::panic::set_hook(Box::new(|info| {
        let message = format!(
            "planelint: internal error (a bug) while processing {}: {info}; please report it",
            check::current_work()
        );
        eprintln!("{}", report::strip_controls(&message).replace('\u{FFFD}', " "));
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(3),
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
    let defaults = Options::default();
    let (yaml, engine) = (defaults.yaml_limits, defaults.engine_limits);
    let options = Options {
        paths: args.paths,
        policy_dirs: args.policy_dirs,
        no_builtin: args.no_builtin,
        follow_symlinks: args.follow_symlinks,
        max_file_bytes: args.max_file_size.unwrap_or(defaults.max_file_bytes),
        yaml_limits: planelint::yaml::Limits {
            max_depth: args.max_depth.unwrap_or(yaml.max_depth),
            max_alias_nodes: args.max_alias_nodes.unwrap_or(yaml.max_alias_nodes),
            max_documents: args.max_documents.unwrap_or(yaml.max_documents),
            max_nodes: args.max_nodes.unwrap_or(yaml.max_nodes),
        },
        engine_limits: planelint::engine::Limits {
            max_steps: args.max_eval_steps.unwrap_or(engine.max_steps),
            deadline: args
                .eval_deadline_ms
                .map_or(engine.deadline, std::time::Duration::from_millis),
            ..engine
        },
    };
    let run = match check::check(&options, &cwd) {
        Ok(run) => run,
        Err(error) => {
            eprintln!("planelint: {error}");
            // The engine failing is a bug (its panic was reported already).
            return if matches!(error, check::CheckError::Engine(_)) {
                3
            } else {
                2
            };
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
            report::render_human(
                &mut out,
                &run.diagnostics,
                &run.sources,
                run.files_scanned,
                run.skipped_files,
                style,
            )
        }
        Format::Json => report::render_json(
            &mut out,
            &run.diagnostics,
            &run.sources,
            run.files_scanned,
            run.skipped_files,
        ),
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
    let fail_level = match args.fail_level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Note => Severity::Note,
    };
    run.exit_code(fail_level)
}

fn describe_paths(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
