//! The `planelint` binary: parses arguments, runs the library, prints, and
//! maps the outcome to an exit code (0 clean, 1 findings, 2 usage or policy
//! load error, 3 internal error).

mod cli;

// Loading and modelling allocate many small strings and nodes on several
// threads: mimalloc cut a run on a 5,200-file repo from 0.43 s to 0.32 s of
// wall time (one thread, same machine), for 40 MB more peak memory. Its v2
// line, not v3: on that repo v2 peaks at 58 MB instead of 84 MB and spends
// less time in the kernel zeroing fresh pages (median of 21 runs: 117 ms
// against 121 ms of `--timings` total).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, Parser};
use cli::{
    CheckArgs, Cli, Command, EvaluatorArg, GraphFormat, Level, PolicyArgs, ReportFormat, SchemaKind, TestArgs,
    TestFormat,
};
use planelint::baseline::{self, Baseline};
use planelint::check::{self, Options};
use planelint::config::{self, Flags, Settings};
use planelint::diagnostic::{self, Severity};
use planelint::report::{self, Format, Report, Style};
use planelint::source::SourceMap;
use planelint::suppress::Date;
use planelint::{audit, discover, policytest, schema};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

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
    // panicked (the engine's too); the text may quote scanned input. Only the
    // first panic is the cause: the ones it sets off (a thread scope that
    // re-raises a worker's panic) are not reported again.
    static REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        if REPORTED.swap(true, Ordering::SeqCst) {
            return;
        }
        let message = format!(
            "planelint: internal error (a bug) while processing {}: {info}; please report it",
            planelint::parallel::current_work()
        );
        eprintln!("{}", report::strip_controls(&message).replace('\u{FFFD}', " "));
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(3),
    }
}

fn run(cli: Cli) -> u8 {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(error) => {
            eprintln!("planelint: cannot read the working directory: {error}");
            return 3;
        }
    };
    match cli.command {
        Command::Check(args) => run_check(*args, &cwd),
        Command::Rules(args) => run_rules(&args, None, &cwd),
        Command::Explain(args) => run_rules(&args.policy, Some(&args.rule), &cwd),
        Command::Test(args) => run_test(args, &cwd),
        Command::Init(args) => match planelint::init::init(&args.dir) {
            Ok(written) => {
                for path in written {
                    println!("wrote {}", path.display());
                }
                0
            }
            Err(error) => {
                eprintln!("planelint: {error}");
                2
            }
        },
        Command::Schema(args) => {
            let schema = match args.kind {
                SchemaKind::Manifest => schema::manifest(),
                SchemaKind::Policy => schema::policy(),
                SchemaKind::Config => schema::config(&Format::ALL.map(Format::name)),
            };
            print_text(&format!("{schema:#}\n"))
        }
        Command::Completions(args) => {
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "planelint", &mut out);
            print_text(&String::from_utf8_lossy(&out))
        }
        Command::Report(args) => run_report(
            &args.paths,
            &args.policy,
            Some(args.format),
            args.output.as_deref(),
            None,
            &cwd,
        ),
        Command::Graph(args) => run_report(&args.paths, &args.policy, None, None, Some(args.format), &cwd),
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => print_text(&String::from_utf8_lossy(&out)),
                Err(error) => {
                    eprintln!("planelint: cannot render the man page: {error}");
                    3
                }
            }
        }
    }
}

/// Prints `text` to standard output; a closed pipe is not an error.
fn print_text(text: &str) -> u8 {
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
fn settings(policy: &PolicyArgs, flags: Flags, format: Format, cwd: &Path) -> Result<(Settings, SourceMap), u8> {
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
    if let Err(error) = report::render(&mut out, format, &report, Style::Plain).and_then(|()| out.flush()) {
        eprintln!("planelint: cannot write the report: {error}");
    }
    Err(2)
}

fn options(paths: Vec<PathBuf>, settings: &Settings, policy: &PolicyArgs, cwd: &Path) -> Options {
    Options::from_settings(paths, settings, policy.no_builtin, cwd)
}

/// `report` (HTML or Markdown, to a file or standard output) and `graph`
/// (DOT or Mermaid): a check run, seen as the audit of its models.
fn run_report(
    paths: &[PathBuf],
    policy: &PolicyArgs,
    report: Option<ReportFormat>,
    output: Option<&Path>,
    graph: Option<GraphFormat>,
    cwd: &Path,
) -> u8 {
    let (settings, _) = match settings(policy, Flags::default(), Format::Human, cwd) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let options = Options {
        today: Some(today()),
        ..options(paths.to_vec(), &settings, policy, cwd)
    };
    let run = match check::check(&options, cwd) {
        Ok(run) => run,
        Err(error) => {
            eprintln!("planelint: {error}");
            return 2;
        }
    };
    // SOURCE_DATE_EPOCH makes the report reproducible (and testable).
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    let audit = audit::Audit::new(
        &run.models,
        &run.diagnostics,
        &run.sources,
        run.files_scanned,
        run.policies.len(),
        audit::rfc3339(now),
    );
    let render = |out: &mut dyn Write| match (report, graph) {
        (Some(ReportFormat::Html), _) => audit::render_html(out, &audit),
        (Some(ReportFormat::Markdown), _) => audit::render_markdown(out, &audit),
        (None, Some(GraphFormat::Mermaid)) => audit::render_mermaid(out, &audit),
        (None, _) => audit::render_dot(out, &audit),
    };
    let written = match output {
        Some(path) => write_to(File::create(path), render),
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            render(&mut out).and_then(|()| out.flush())
        }
    };
    match written {
        Ok(()) => 0,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("planelint: cannot write the report: {error}");
            2
        }
    }
}

fn run_check(args: CheckArgs, cwd: &Path) -> u8 {
    let flags = Flags {
        policies: args.policy.policy_dirs.clone(),
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_level: args.fail_level.map(|level| match level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Note => Severity::Note,
        }),
        format: args.format.map(|f| f.name().to_string()),
    };
    let (settings, config_sources) = match settings(&args.policy, flags, args.format.unwrap_or(Format::Human), cwd) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    if args.show_config {
        return print_text(&config::show(&settings, &config_sources, cwd));
    }
    // Validated when the config file was read.
    let format: Format = settings.format.value.parse().unwrap_or(Format::Human);
    let fail_level = settings.fail_level.value;
    let baseline = match &args.baseline {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| Baseline::parse(&text).map_err(|e| e.to_string()))
        {
            Ok(baseline) => Some(baseline),
            Err(error) => {
                eprintln!("planelint: cannot read the baseline {}: {error}", path.display());
                return 2;
            }
        },
        None => None,
    };
    let defaults = Options::default();
    let (yaml, engine) = (defaults.yaml_limits, defaults.engine_limits);
    let options = Options {
        follow_symlinks: args.follow_symlinks,
        threads: args.threads,
        today: Some(args.today.unwrap_or_else(today)),
        baseline,
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
        evaluator: match args.evaluator {
            EvaluatorArg::Native => planelint::engine::Evaluator::Native,
            EvaluatorArg::Cel => planelint::engine::Evaluator::Interpreter,
        },
        ..options(args.paths.clone(), &settings, &args.policy, cwd)
    };
    let started = std::time::Instant::now();
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| Arc::new(check::Progress::default()));
    let options = Options {
        progress: progress.clone(),
        ..options
    };
    let result = with_progress_bar(progress, || check::check(&options, cwd));
    // The process ends right after the report: freeing the run's many small
    // allocations one by one would cost milliseconds for nothing.
    let run = match result {
        Ok(run) => std::mem::ManuallyDrop::new(run),
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
    let known: Vec<&str> = run
        .policies
        .iter()
        .map(|p| p.id.as_str())
        .chain(diagnostic::ENGINE_RULES.iter().map(|r| r.id))
        .collect();
    for (rule, from) in settings.rules.unknown(&known) {
        let named_in = match from {
            config::Provenance::Flag(flag) => flag.to_string(),
            _ => "the config file".to_string(),
        };
        eprintln!("planelint: warning: unknown rule `{rule}` in {named_in}");
    }
    if let Some(path) = &args.write_baseline {
        let file = File::create(path);
        if let Err(error) = write_to(file, |out| baseline::write(out, &run.diagnostics, &run.sources)) {
            eprintln!("planelint: cannot write {}: {error}", path.display());
            return 2;
        }
        eprintln!(
            "planelint: recorded {} {} in {}",
            run.diagnostics.len(),
            if run.diagnostics.len() == 1 {
                "finding"
            } else {
                "findings"
            },
            path.display()
        );
        return if run.policy_load_failed { 2 } else { 0 };
    }
    let workspace = env_path("GITHUB_WORKSPACE");
    let report = Report {
        diagnostics: &run.diagnostics,
        suppressed: &run.suppressed,
        sources: &run.sources,
        policies: &run.policies,
        scanned: &run.scanned,
        files_scanned: run.files_scanned,
        skipped_files: run.skipped_files,
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
    let github = format == Format::Github || args.outputs.iter().any(|o| o.format == Format::Github);
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
    // Standard output is line-buffered: a report of thousands of lines
    // would cost a system call each.
    let mut out = BufWriter::new(stdout.lock());
    let written = report::render(&mut out, format, &report, style);
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

/// Loads the policies (no config repo is scanned) and lists them, or
/// explains `rule`.
fn run_rules(policy: &PolicyArgs, rule: Option<&str>, cwd: &Path) -> u8 {
    let flags = Flags {
        policies: policy.policy_dirs.clone(),
        ..Flags::default()
    };
    let (settings, _) = match settings(policy, flags, Format::Human, cwd) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let run = match check::check(&options(Vec::new(), &settings, policy, cwd), cwd) {
        Ok(run) => run,
        Err(error) => {
            eprintln!("planelint: {error}");
            return 2;
        }
    };
    if run.policy_load_failed {
        print_load_errors(&run);
        return 2;
    }
    let docs = report::rule_docs(&run.policies, &run.sources, |id| settings.rules.enabled(id));
    match rule {
        None => {
            let mut out = Vec::new();
            let _ = report::render_rule_table(&mut out, &docs);
            print_text(&String::from_utf8_lossy(&out))
        }
        Some(id) => match docs.iter().find(|d| d.id == id) {
            Some(doc) => {
                let mut out = Vec::new();
                let _ = report::render_explain(&mut out, doc);
                print_text(&String::from_utf8_lossy(&out))
            }
            None => {
                eprintln!("planelint: no rule `{id}`; `planelint rules` lists them");
                2
            }
        },
    }
}

/// A policy that failed to load, in plain text on standard error.
fn print_load_errors(run: &check::Run) {
    let mut out = Vec::new();
    let _ = report::render_human(&mut out, &run.diagnostics, &run.sources, 0, 0, Style::Plain);
    eprint!("{}", String::from_utf8_lossy(&out));
}

/// Runs every fixture repo under the given directories and compares its
/// findings with its `# expect:` markers.
fn run_test(args: TestArgs, cwd: &Path) -> u8 {
    let flags = Flags {
        policies: args.policy.policy_dirs.clone(),
        ..Flags::default()
    };
    let (settings, _) = match settings(&args.policy, flags, Format::Human, cwd) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let repos = match policytest::fixture_repos(&args.dirs, cwd) {
        Ok(repos) => repos,
        Err(error) => {
            eprintln!("planelint: {error}");
            return 2;
        }
    };
    let mut results = Vec::new();
    for repo in repos {
        let options = Options {
            today: Some(today()),
            ..options(vec![repo.clone()], &settings, &args.policy, cwd)
        };
        let run = match check::check(&options, cwd) {
            Ok(run) => run,
            Err(error) => {
                eprintln!("planelint: {error}");
                return 2;
            }
        };
        let expected = policytest::expectations(&run.sources, &run.scanned);
        results.push(policytest::compare(
            discover::display_name(&repo, cwd),
            expected,
            &run.diagnostics,
            &run.sources,
        ));
    }
    let mut out = Vec::new();
    let _ = match args.format {
        TestFormat::Human => policytest::render_human(&mut out, &results),
        TestFormat::Junit => policytest::render_junit(&mut out, &results),
    };
    let code = print_text(&String::from_utf8_lossy(&out));
    if results.iter().all(policytest::Outcome::passed) {
        code
    } else {
        1
    }
}

/// Today's date (UTC) from the system clock.
fn today() -> Date {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days_since_epoch(i64::try_from(seconds / 86_400).unwrap_or(0))
}

fn print_timings(t: &check::Timings, total: std::time::Duration) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    // The policies compile on another thread while the files are loaded.
    let report = total.saturating_sub(t.discover + t.load + t.model + t.evaluate);
    eprintln!(
        "timings: discover {:.1} ms, read+parse {:.1} ms, model {:.1} ms (compile {:.1} ms alongside these), \
         evaluate {:.1} ms ({} evaluations, {} by cel's interpreter), report {:.1} ms, total {:.1} ms",
        ms(t.discover),
        ms(t.load),
        ms(t.model),
        ms(t.compile),
        ms(t.evaluate),
        t.evaluations.evaluations,
        t.evaluations.interpreted,
        ms(report),
        ms(total)
    );
}

/// Runs `work`, showing a progress bar on standard error (a terminal) while
/// it loads many files; the bar is erased before anything else is printed.
fn with_progress_bar<T>(progress: Option<Arc<check::Progress>>, work: impl FnOnce() -> T) -> T {
    with_progress_bar_every(progress, std::time::Duration::from_millis(100), work)
}

/// [`with_progress_bar`], redrawn every `interval`. The drawer waits on a
/// channel, not a sleep: the run's end wakes it at once (a sleep held every
/// run with a terminal on stderr up to 100 ms after its work was done).
fn with_progress_bar_every<T>(
    progress: Option<Arc<check::Progress>>,
    interval: std::time::Duration,
    work: impl FnOnce() -> T,
) -> T {
    const MANY_FILES: usize = 500;
    let Some(progress) = progress else {
        return work();
    };
    let (finished, finish) = std::sync::mpsc::channel::<()>();
    let drawer = std::thread::spawn(move || {
        let mut drawn = false;
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finish.recv_timeout(interval) {
            let (done, total) = (
                progress.done.load(Ordering::Relaxed),
                progress.total.load(Ordering::Relaxed),
            );
            if total >= MANY_FILES && done < total {
                let filled = done * 30 / total;
                eprint!(
                    "\rplanelint: [{}{}] {done}/{total} files",
                    "=".repeat(filled),
                    " ".repeat(30 - filled)
                );
                drawn = true;
            }
        }
        if drawn {
            eprint!("\r{}\r", " ".repeat(60));
        }
    });
    let result = work();
    // Dropping the sender wakes the drawer.
    drop(finished);
    let _ = drawer.join();
    result
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_progress_bar_lets_the_run_end_as_soon_as_its_work_is_done() {
        let started = Instant::now();
        let answer = with_progress_bar_every(Some(Arc::default()), Duration::from_secs(10), || 42);
        assert_eq!(answer, 42);
        // A drawer that sleeps through its interval would hold the run 10 s.
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }
}
