//! The report as one self-contained HTML page: inline CSS and an inline SVG
//! diagram; no script, no font, nothing fetched from the network.

use super::graph::svg;
use super::{Audit, Cell, Table};
use crate::diagnostic::Severity;
use crate::report::counted;
use crate::report::escape::xml as escape;
use std::io::{self, Write};

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}\
th{background:#eef3f8}tr.bad td{background:#fde8e8}code{font-size:95%}\
.counts span{margin-right:1.5em;font-weight:bold}.error{color:#b00}.warning{color:#a60}.note{color:#06a}\
.diagram{overflow-x:auto;border:1px solid #ddd;padding:8px}";

fn links(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(|n| format!("<a href=\"#finding-{n}\">#{n}</a>"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn table(out: &mut dyn Write, table: &Table) -> io::Result<()> {
    let header: Vec<String> = table
        .header
        .iter()
        .map(|h| format!("<th>{}</th>", escape(h, false)))
        .collect();
    writeln!(out, "<table><tr>{}</tr>", header.concat())?;
    for (cells, bad) in &table.rows {
        let class = if *bad { " class=\"bad\"" } else { "" };
        let shown: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(text) => format!("<td>{}</td>", escape(text, false)),
                Cell::Code(text, note) => format!("<td><code>{}</code>{note}</td>", escape(text, false)),
                Cell::Missing => "<td>—</td>".to_string(),
                Cell::Status(status) => format!("<td>{}</td>", status.label()),
                Cell::Findings(numbers) => format!("<td>{}</td>", links(numbers)),
            })
            .collect();
        writeln!(out, "<tr{class}>{}</tr>", shown.concat())?;
    }
    writeln!(out, "</table>")
}

pub fn render_html(out: &mut dyn Write, audit: &Audit<'_>) -> io::Result<()> {
    let title = match audit.organizations.as_slice() {
        [org] => format!("planelint audit: {}", org.name),
        _ => "planelint audit".to_string(),
    };
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title, false)
    )?;
    writeln!(out, "<h1>{}</h1>", escape(&title, false))?;
    writeln!(
        out,
        "<p class=\"counts\"><span class=\"error\">{}</span><span class=\"warning\">{}</span><span class=\"note\">{}</span></p>",
        counted(audit.count(Severity::Error), "error", "errors"),
        counted(audit.count(Severity::Warning), "warning", "warnings"),
        counted(audit.count(Severity::Note), "note", "notes")
    )?;
    writeln!(
        out,
        "<p>Scanned {} with {} (planelint {}), {}.</p>",
        counted(audit.files_scanned, "file", "files"),
        counted(audit.policies, "policy", "policies"),
        escape(audit.version, false),
        escape(&audit.generated_at, false)
    )?;
    for org in &audit.organizations {
        writeln!(out, "<h2>Organization <code>{}</code></h2>", escape(&org.name, false))?;
        if !org.rows.is_empty() {
            writeln!(out, "<h3>Isolation ({} isolation)</h3>", escape(&org.isolation, false))?;
            if let Some(domains) = org.domain_table() {
                table(out, &domains)?;
                writeln!(out, "<p>{} units; the rows with findings:</p>", org.rows.len())?;
            }
            table(out, &org.matrix_table())?;
        }
        if !org.pools.is_empty() {
            writeln!(out, "<h3>Cluster pools</h3>")?;
            if let Some(pools) = org.pool_summary_table() {
                table(out, &pools)?;
                writeln!(out, "<p>The clusters with findings:</p>")?;
            }
            table(out, &org.pools_table())?;
        }
    }
    writeln!(out, "<h2>Diagram</h2><div class=\"diagram\">{}</div>", svg(audit))?;
    writeln!(out, "<h2>Findings</h2>")?;
    if audit.findings.is_empty() {
        writeln!(out, "<p>No findings.</p>")?;
    }
    for (rule, findings) in audit.by_rule() {
        writeln!(
            out,
            "<h3><code>{}</code> ({})</h3><ul>",
            escape(rule, false),
            findings.len()
        )?;
        for f in findings {
            let severity = f.diagnostic.severity.as_str();
            writeln!(
                out,
                "<li id=\"finding-{}\">#{} <span class=\"{severity}\">{severity}</span> <code>{}:{}</code>: {}</li>",
                f.number,
                f.number,
                escape(f.file, false),
                f.line,
                escape(&f.diagnostic.message, false)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</body></html>")
}
