//! `check`: lints the config repos, prints the findings in the chosen format
//! (and to `--output` files, the GitHub step summary, a baseline), and gives
//! the exit code.

use super::{config_error, config_source, print_text, today, with_limits, write_file, write_to};
use crate::cli::{CheckArgs, EvaluatorArg, Level};
use planelint::baseline::{self, Baseline};
use planelint::check::{self, Options, Planned};
use planelint::config::{self, Flags};
use planelint::diagnostic::Severity;
use planelint::exit::Exit;
use planelint::registry::Registry;
use planelint::report::{self, Format, Style};
use planelint::workspace::RootRule;
use std::fs::OpenOptions;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub fn run_check(args: CheckArgs, cwd: &Path) -> Exit {
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
    let requested_format = args.format.unwrap_or(Format::Human);
    let base = Options {
        paths: args.paths.clone(),
        roots: RootRule::Find,
        config: Some(config_source(&args.policy, flags)),
        no_builtin: args.policy.no_builtin,
        follow_symlinks: args.follow_symlinks,
        ..Options::default()
    };
    if args.show_config {
        return match check::plan(&base, cwd) {
            Ok(planned) => print_text(&show_roots(&planned, cwd)),
            Err(error) => config_error(error, requested_format, cwd),
        };
    }
    let baseline = match &args.baseline {
        Some(path) => match planelint::load::read_told(path, Some(cwd), planelint::load::TOLD_FILE_BYTES)
            .and_then(|text| Baseline::parse(&text).map_err(|e| e.to_string()))
        {
            Ok(baseline) => Some(baseline),
            Err(error) => {
                eprintln!("planelint: cannot read the baseline {}: {error}", path.display());
                return Exit::Usage;
            }
        },
        None => None,
    };
    let options = Options {
        threads: args.threads,
        today: Some(args.today.unwrap_or_else(today)),
        baseline,
        evaluator: match args.evaluator {
            EvaluatorArg::Native => planelint::engine::Evaluator::Native,
            EvaluatorArg::Cel => planelint::engine::Evaluator::Interpreter,
        },
        ..with_limits(base, &args.limits)
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
        Err(error) => return config_error(error, requested_format, cwd),
    };
    // One format per run: the flag, else the first root's config.
    let format: Format = match (args.format, run.settings()) {
        (Some(format), _) => format,
        (None, Some(settings)) => settings.format.value.parse().unwrap_or(Format::Human),
        (None, None) => Format::Human,
    };
    if run.files_scanned == 0 && run.diagnostics.is_empty() {
        eprintln!(
            "planelint: warning: no YAML file found in {}",
            describe_paths(&options.paths)
        );
    }
    let registry = Registry::new(&run.policies, &run.sources);
    let mut warned = std::collections::BTreeSet::new();
    for settings in run.roots.iter().filter_map(|root| root.settings.as_ref()) {
        let named = settings.rules.named();
        for &(rule, from) in &named {
            let named_in = match from {
                config::Provenance::Flag(flag) => flag.to_string(),
                _ => settings.file.as_ref().map_or_else(
                    || "the config file".to_string(),
                    |f| planelint::discover::display_name(f, cwd),
                ),
            };
            if !warned.insert((rule.to_string(), named_in.clone())) {
                continue;
            }
            match registry.resolve(rule).map(|known| known.id) {
                None => eprintln!("planelint: warning: unknown rule `{rule}` in {named_in}"),
                Some(current) if current != rule && named.iter().any(|(other, _)| *other == current) => {
                    eprintln!(
                        "planelint: warning: rule `{rule}` is now `{current}`, which {named_in} also names: remove `{rule}`"
                    );
                }
                Some(current) if current != rule => {
                    eprintln!("planelint: warning: rule `{rule}` is now `{current}`; rename it in {named_in}");
                }
                _ => {}
            }
        }
    }
    if let Some(path) = &args.write_baseline {
        if let Err(error) = write_file(path, |out| baseline::write(out, &run.diagnostics, &run.sources)) {
            eprintln!("planelint: cannot write {}: {error}", path.display());
            return Exit::Usage;
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
        return if run.policy_load_failed {
            Exit::Usage
        } else {
            Exit::Clean
        };
    }
    let workspace = env_path("GITHUB_WORKSPACE");
    let report = run.report(&run.diagnostics, workspace.as_deref());
    for output in &args.outputs {
        if let Err(error) = write_file(&output.path, |out| {
            report::render(out, output.format, &report, Style::Plain)
        }) {
            eprintln!("planelint: cannot write {}: {error}", output.path.display());
            return Exit::Usage;
        }
    }
    let github = format == Format::Github || args.outputs.iter().any(|o| o.format == Format::Github);
    if let Some(summary) = env_path("GITHUB_STEP_SUMMARY").filter(|_| github) {
        // GitHub collects the summary from this file; other steps append too.
        let file = OpenOptions::new().append(true).create(true).open(&summary);
        // What earlier writers of this step put there counts toward the limit.
        let used = file
            .as_ref()
            .ok()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
        let budget = report::STEP_SUMMARY_BYTES.saturating_sub(used);
        if let Err(error) = write_to(file, |out| report::render_github_summary(out, &report, budget)) {
            eprintln!(
                "planelint: cannot write the step summary {}: {error}",
                summary.display()
            );
            return Exit::Usage;
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
        // A closed pipe (`planelint check | head`) is not an error of its
        // own, but the findings still decide the exit code.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return run.exit_code(),
        Err(error) => {
            eprintln!("planelint: cannot write the report: {error}");
            return Exit::Internal;
        }
    }
    if args.show_skipped {
        for skipped in run.skipped.iter() {
            eprintln!("planelint: skipped {}: {}", skipped.found.name, skipped.reason);
        }
    }
    if args.show_unread {
        for unread in &run.unread {
            if let Some(file) = run.sources.get(unread.location.source) {
                let at = file.line_col(unread.location.span.start);
                eprintln!(
                    "planelint: not read {}:{}:{}: {}",
                    file.name, at.line, at.column, unread.guess
                );
            }
        }
    }
    if args.timings {
        print_timings(&run.timings, started.elapsed());
    }
    run.exit_code()
}

fn print_timings(t: &check::Timings, total: std::time::Duration) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let report = total.saturating_sub(t.discover + t.load + t.model + t.compile + t.evaluate);
    eprintln!(
        "timings: discover {:.1} ms, read+parse {:.1} ms, model {:.1} ms, compile {:.1} ms, \
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

/// `--show-config`: each root, and the settings that apply to it.
fn show_roots(planned: &Planned, cwd: &Path) -> String {
    let mut out = String::new();
    for (root, _) in &planned.roots {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!(
            "# root: {}\n",
            planelint::discover::display_name(&root.root.dir, cwd)
        ));
        if let Some(settings) = &root.settings {
            out.push_str(&config::show(settings, &root.config_sources, cwd));
        }
    }
    out
}

fn describe_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A path from the environment; unset and empty are the same.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
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
