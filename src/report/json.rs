//! The JSON format: one object per run. The shape is stable (documented in
//! docs/outputs.md): keys may be added, never renamed; a rename bumps `version`.

use super::{Counts, Report, all_findings, position};
use crate::diagnostic::Suppression;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// YAML files left out on purpose (ignored, excluded, links not
    /// followed, Helm templates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<JsonSkipped<'a>>,
    /// YAML documents no reader recognized, with a guess of what each is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unread: Vec<JsonUnread<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonUnread<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    guess: &'a str,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    file: &'a str,
    reason: String,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    byte_start: usize,
    byte_end: usize,
    model_path: Option<&'a str>,
    fingerprint: String,
    suppressed: bool,
    /// Why it is suppressed: absent when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<JsonSuppression<'a>>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonSuppression<'a> {
    /// `inline` (a comment) or `baseline`.
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    notes: usize,
    files: usize,
    /// YAML files and links met but not checked (unreadable, over the size
    /// limit, not UTF-8, not regular files, links not followed).
    skipped_files: usize,
    /// Policies that could not be compiled or evaluated on an entity.
    policy_errors: usize,
    /// Inputs cut short by a limit.
    input_limits: usize,
    /// YAML documents a reader recognized, and those none did.
    documents_read: usize,
    documents_unread: usize,
}

/// The summary counts only findings that are not suppressed.
pub fn render_json(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let sources = report.sources;
    let counts = Counts::of(report.diagnostics);
    let output = Output {
        version: 1,
        diagnostics: all_findings(report)
            .into_iter()
            .map(|(d, suppression)| {
                let at = position(sources, &d.location);
                JsonDiagnostic {
                    rule: d.rule.as_str(),
                    severity: d.severity.as_str(),
                    message: &d.message,
                    file: at.file,
                    line: at.line,
                    column: at.column,
                    end_line: at.end_line,
                    end_column: at.end_column,
                    byte_start: at.span.start,
                    byte_end: at.span.end,
                    model_path: d.model_path.as_deref(),
                    fingerprint: d.fingerprint(sources),
                    suppressed: suppression.is_some(),
                    suppression: suppression.map(|s| match s {
                        Suppression::Inline { reason } => JsonSuppression {
                            kind: "inline",
                            reason: Some(reason),
                        },
                        Suppression::Baseline => JsonSuppression {
                            kind: "baseline",
                            reason: None,
                        },
                    }),
                    related: d
                        .related
                        .iter()
                        .map(|r| {
                            let at = position(sources, &r.location);
                            JsonRelated {
                                file: at.file,
                                line: at.line,
                                column: at.column,
                                end_line: at.end_line,
                                end_column: at.end_column,
                                message: &r.message,
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
        skipped: report
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                file: &s.found.name,
                reason: s.reason.to_string(),
            })
            .collect(),
        unread: report
            .unread
            .iter()
            .map(|u| {
                let at = position(report.sources, &u.location);
                JsonUnread {
                    file: at.file,
                    line: at.line,
                    column: at.column,
                    guess: &u.guess,
                }
            })
            .collect(),
        summary: Summary {
            errors: counts.errors,
            warnings: counts.warnings,
            notes: counts.notes,
            files: report.files_scanned,
            skipped_files: report.skipped_files,
            policy_errors: counts.policy_errors,
            input_limits: counts.input_limits,
            documents_read: report.documents_read,
            documents_unread: report.unread.len(),
        },
    };
    super::escape::to_json_writer(&mut *out, &output)?;
    writeln!(out)
}
