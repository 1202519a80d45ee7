//! The report as Markdown: plain pipe tables, for pull-request comments and
//! wikis (GitHub renders them with no HTML).

use super::{Audit, Cell, Status, Table};
use crate::diagnostic::Severity;
use crate::report::counted;
use crate::report::escape::{markdown, markdown_code};
use std::io::{self, Write};

/// A finding's number, as the findings list below numbers them; escaped,
/// or GitHub would link `#3` to issue 3.
fn number(n: usize) -> String {
    markdown(&format!("#{n}"))
}

fn links(numbers: &[usize]) -> String {
    numbers.iter().map(|&n| number(n)).collect::<Vec<_>>().join(" ")
}

fn table(out: &mut dyn Write, table: &Table) -> io::Result<()> {
    writeln!(out, "| {} |", table.header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(table.header.len()))?;
    for (cells, _) in &table.rows {
        let shown: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(text) => markdown(text),
                Cell::Code(text, note) => format!("{}{note}", markdown_code(text, true)),
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
        writeln!(out, "## Organization {}\n", markdown_code(&org.name, false))?;
        if !org.rows.is_empty() {
            writeln!(out, "### Isolation ({} isolation)\n", markdown(&org.isolation))?;
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
        writeln!(out, "### {} ({})\n", markdown_code(rule, false), findings.len())?;
        for f in findings {
            writeln!(
                out,
                "- {} {} {}: {}",
                number(f.number),
                f.diagnostic.severity,
                markdown_code(&format!("{}:{}", f.file, f.line), false),
                markdown(&f.diagnostic.message)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
