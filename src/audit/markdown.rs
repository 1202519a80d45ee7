//! The report as Markdown: plain pipe tables, for pull-request comments and
//! wikis (GitHub renders them with no HTML).

use super::{Audit, FULL_ROWS, Status};
use crate::diagnostic::Severity;
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

pub fn render_markdown(out: &mut dyn Write, audit: &Audit<'_>) -> io::Result<()> {
    writeln!(out, "# planelint audit\n")?;
    writeln!(
        out,
        "**{} errors, {} warnings, {} notes** in {} file(s), {} policies (planelint {}), {}.\n",
        audit.count(Severity::Error),
        audit.count(Severity::Warning),
        audit.count(Severity::Note),
        audit.files_scanned,
        audit.policies,
        audit.version,
        audit.generated_at
    )?;
    for org in &audit.organizations {
        writeln!(out, "## Organization `{}`\n", cell(&org.name))?;
        if !org.rows.is_empty() {
            writeln!(out, "### Isolation ({} isolation)\n", cell(&org.isolation))?;
            if org.rows.len() > FULL_ROWS {
                writeln!(out, "| Domain | Units | With findings |\n|---|---|---|")?;
                for (domain, units, bad) in org.domain_counts() {
                    writeln!(out, "| {} | {units} | {bad} |", cell(&domain))?;
                }
                writeln!(out, "\n{} units; the rows with findings:\n", org.rows.len())?;
            }
            let unit = if org.isolation == "project" {
                "Domain/Project"
            } else {
                "Domain"
            };
            writeln!(
                out,
                "| {unit} | Account | Provider | Status | Findings |\n|---|---|---|---|---|"
            )?;
            for row in org.shown_rows() {
                let status = match row.status {
                    Status::Ok => "ok".to_string(),
                    other => format!("**{}**", other.label()),
                };
                writeln!(
                    out,
                    "| `{}`{} | {} | {} | {status} | {} |",
                    cell(&row.unit),
                    if row.production { " (production)" } else { "" },
                    row.account
                        .as_deref()
                        .map_or("—".to_string(), |a| format!("`{}`", cell(a))),
                    cell(row.provider.as_deref().unwrap_or("—")),
                    links(&row.findings)
                )?;
            }
            writeln!(out)?;
        }
        if !org.pools.is_empty() {
            writeln!(out, "### Cluster pools\n")?;
            if org.many_clusters() {
                writeln!(
                    out,
                    "| Pool | Metadata bucket | Clusters | With findings |\n|---|---|---|---|"
                )?;
                for pool in &org.pools {
                    let bad = pool.clusters.iter().filter(|c| !c.findings.is_empty()).count();
                    writeln!(
                        out,
                        "| `{}` | {} | {} | {bad} |",
                        cell(&pool.name),
                        cell(pool.bucket.as_deref().unwrap_or("—")),
                        pool.clusters.len()
                    )?;
                }
                writeln!(out, "\nThe clusters with findings:\n")?;
            }
            writeln!(
                out,
                "| Pool | Metadata bucket | Cluster | Account | Region | Cluster bucket | Findings |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|")?;
            for pool in &org.pools {
                let bucket = pool
                    .bucket
                    .as_deref()
                    .map_or("—".to_string(), |b| format!("`{}`", cell(b)));
                let declared = if pool.declared { "" } else { " (no manifest)" };
                if pool.clusters.is_empty() {
                    writeln!(
                        out,
                        "| `{}`{declared} | {bucket} | — | | | | {} |",
                        cell(&pool.name),
                        links(&pool.findings)
                    )?;
                }
                for cluster in org.shown_clusters(pool) {
                    let mut numbers = pool.findings.clone();
                    numbers.extend(&cluster.findings);
                    writeln!(
                        out,
                        "| `{}`{declared} | {bucket} | `{}` | {} | {} | {} | {} |",
                        cell(&pool.name),
                        cell(&cluster.name),
                        cell(cluster.account.as_deref().unwrap_or("—")),
                        cell(cluster.region.as_deref().unwrap_or("—")),
                        cell(cluster.bucket.as_deref().unwrap_or("—")),
                        links(&numbers)
                    )?;
                }
            }
            writeln!(out)?;
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
