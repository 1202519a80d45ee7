//! `report` and `graph`.

use super::{options, settings, today, write_to};
use crate::cli::{GraphFormat, PolicyArgs, ReportFormat};
use planelint::audit;
use planelint::check::{self, Options};
use planelint::config::Flags;
use planelint::report::Format;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// `report` (HTML or Markdown, to a file or standard output) and `graph`
/// (DOT or Mermaid): a check run, seen as the audit of its models.
pub fn run_report(
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
