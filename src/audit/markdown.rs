//! The report as Markdown: plain pipe tables, for pull-request comments and
//! wikis (GitHub renders them with no HTML).

use super::{Audit, Cell, Status, Table};
use crate::diagnostic::Severity;
use crate::report::counted;
use std::io::{self, Write};

/// A table cell: pipes and line breaks would break the table.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Finding numbers, as the findings list below numbers them.
fn links(numbers: &[usize]) -> String {
    numbers.iter().map(|n| format!("#{n}")).collect::<Vec<_>>().join(" ")
}

fn table(out: &mut dyn Write, table: &Table) -> io::Result<()> {
    writeln!(out, "| {} |", table.header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(table.header.len()))?;
    for (cells, _) in &table.rows {
        let shown: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(text) => cell(text),
                Cell::Code(text, note) => format!("`{}`{note}", cell(text)),
                Cell::Missing => "—".to_string(),
                Cell::Status(Status::Ok) => "ok".to_string(),
                Cell::Status(status) => format!("**{}**", status.label()),
                Cell::Findings(numbers) => links(numbers),
            })
            .collect();
        writeln!(out, "| {} |", shown.join(" | "))?;
    }
    writeln!(out)
}

pub fn render_markdown(out: &mut dyn Write, audit: &Audit<'_>) -> io::Result<()> {
    writeln!(out, "# planelint audit\n")?;
    writeln!(
        out,
        "**{}, {}, {}** in {}, {} (planelint {}), {}.\n",
        counted(audit.count(Severity::Error), "error", "errors"),
        counted(audit.count(Severity::Warning), "warning", "warnings"),
        counted(audit.count(Severity::Note), "note", "notes"),
        counted(audit.files_scanned, "file", "files"),
        counted(audit.policies, "policy", "policies"),
        audit.version,
        audit.generated_at
    )?;
    for org in &audit.organizations {
        writeln!(out, "## Organization `{}`\n", cell(&org.name))?;
        if !org.rows.is_empty() {
            writeln!(out, "### Isolation ({} isolation)\n", cell(&org.isolation))?;
            if let Some(domains) = org.domain_table() {
                table(out, &domains)?;
                writeln!(out, "{} units; the rows with findings:\n", org.rows.len())?;
            }
            table(out, &org.matrix_table())?;
        }
        if !org.pools.is_empty() {
            writeln!(out, "### Cluster pools\n")?;
            if let Some(pools) = org.pool_summary_table() {
                table(out, &pools)?;
                writeln!(out, "The clusters with findings:\n")?;
            }
            table(out, &org.pools_table())?;
        }
    }
    writeln!(out, "## Findings\n")?;
    if audit.findings.is_empty() {
        writeln!(out, "No findings.")?;
    }
    for (rule, findings) in audit.by_rule() {
        writeln!(out, "### `{rule}` ({})\n", findings.len())?;
        for f in findings {
            writeln!(
                out,
                "- #{} {} `{}:{}`: {}",
                f.number,
                f.diagnostic.severity,
                cell(f.file),
                f.line,
                cell(&f.diagnostic.message)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
