//! `report` and `graph`.

use super::{config_error, config_source, today, with_limits, write_file};
use crate::cli::{GraphFormat, LimitArgs, PolicyArgs, ReportFormat};
use planelint::audit;
use planelint::check::{self, Options};
use planelint::config::Flags;
use planelint::diagnostic::POLICY_ERROR;
use planelint::exit::Exit;
use planelint::report::Format;
use planelint::workspace::RootRule;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// `report` (HTML or Markdown, to a file or standard output) and `graph`
/// (DOT or Mermaid): a check run, seen as the audit of its models.
pub fn run_report(
    paths: &[PathBuf],
    policy: &PolicyArgs,
    limits: &LimitArgs,
    report: Option<ReportFormat>,
    output: Option<&Path>,
    graph: Option<GraphFormat>,
    cwd: &Path,
) -> Exit {
    let options = Options {
        paths: paths.to_vec(),
        roots: RootRule::Find,
        config: Some(config_source(
            policy,
            Flags {
                policies: policy.policy_dirs.clone(),
                ..Flags::default()
            },
        )),
        no_builtin: policy.no_builtin,
        today: Some(today()),
        ..with_limits(Options::default(), limits)
    };
    let mut run = match check::check(&options, cwd) {
        Ok(run) => run,
        Err(error) => return config_error(error, Format::Human, cwd),
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
    // The models shown are those with an entity in the paths given; the
    // rest of their roots was loaded for the findings only.
    let shown: std::collections::BTreeSet<_> = run.scanned.iter().copied().collect();
    run.models.retain(|model| {
        model
            .collections
            .iter()
            .any(|(_, entities)| entities.iter().any(|e| shown.contains(&e.location.source)))
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
        (Some(ReportFormat::Json), _) => audit::render_model_json(out, &run.models, &run.sources),
        (None, Some(GraphFormat::Mermaid)) => audit::render_mermaid(out, &audit),
        (None, _) => audit::render_dot(out, &audit),
    };
    let written = match output {
        Some(path) => write_file(path, render),
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            render(&mut out).and_then(|()| out.flush())
        }
    };
    // A policy that did not load leaves the audit incomplete, as in `check`.
    let complete = if run.policy_load_failed {
        for error in run.diagnostics.iter().filter(|d| d.rule.as_str() == POLICY_ERROR) {
            let place = run.sources.get(error.location.source).map_or_else(String::new, |file| {
                let at = file.line_col(error.location.span.start);
                format!("{}:{}:{}: ", file.name, at.line, at.column)
            });
            eprintln!("planelint: {place}policy-error: {}", error.message);
        }
        Exit::Usage
    } else {
        Exit::Clean
    };
    match written {
        Ok(()) => complete,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => complete,
        Err(error) => {
            eprintln!("planelint: cannot write the report: {error}");
            Exit::Usage
        }
    }
}
