//! The report as one self-contained HTML page: inline CSS and an inline SVG
//! diagram; no script, no font, nothing fetched from the network.

use super::graph::{svg, xml};
use super::{Audit, FULL_ROWS, Status};
use crate::diagnostic::Severity;
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

fn or_dash(text: Option<&str>) -> String {
    text.map_or_else(|| "—".to_string(), xml)
}

pub fn render_html(out: &mut dyn Write, audit: &Audit<'_>) -> io::Result<()> {
    let title = match audit.organizations.as_slice() {
        [org] => format!("planelint audit: {}", org.name),
        _ => "planelint audit".to_string(),
    };
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    writeln!(out, "<title>{}</title><style>{STYLE}</style></head><body>", xml(&title))?;
    writeln!(out, "<h1>{}</h1>", xml(&title))?;
    writeln!(
        out,
        "<p class=\"counts\"><span class=\"error\">{} errors</span><span class=\"warning\">{} warnings</span><span class=\"note\">{} notes</span></p>",
        audit.count(Severity::Error),
        audit.count(Severity::Warning),
        audit.count(Severity::Note)
    )?;
    writeln!(
        out,
        "<p>Scanned {} file(s) with {} policies (planelint {}), {}.</p>",
        audit.files_scanned,
        audit.policies,
        xml(audit.version),
        xml(&audit.generated_at)
    )?;
    for org in &audit.organizations {
        writeln!(out, "<h2>Organization <code>{}</code></h2>", xml(&org.name))?;
        if !org.rows.is_empty() {
            writeln!(out, "<h3>Isolation ({} isolation)</h3>", xml(&org.isolation))?;
            if org.rows.len() > FULL_ROWS {
                writeln!(
                    out,
                    "<table><tr><th>Domain</th><th>Units</th><th>With findings</th></tr>"
                )?;
                for (domain, units, bad) in org.domain_counts() {
                    writeln!(out, "<tr><td>{}</td><td>{units}</td><td>{bad}</td></tr>", xml(&domain))?;
                }
                writeln!(out, "</table><p>{} units; the rows with findings:</p>", org.rows.len())?;
            }
            let unit = if org.isolation == "project" {
                "Domain/Project"
            } else {
                "Domain"
            };
            writeln!(
                out,
                "<table><tr><th>{unit}</th><th>Account</th><th>Provider</th><th>Status</th><th>Findings</th></tr>"
            )?;
            for row in org.shown_rows() {
                let class = if row.status == Status::Ok { "" } else { " class=\"bad\"" };
                writeln!(
                    out,
                    "<tr{class}><td><code>{}</code>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    xml(&row.unit),
                    if row.production { " (production)" } else { "" },
                    or_dash(row.account.as_deref()),
                    or_dash(row.provider.as_deref()),
                    row.status.label(),
                    links(&row.findings)
                )?;
            }
            writeln!(out, "</table>")?;
        }
        if !org.pools.is_empty() {
            writeln!(out, "<h3>Cluster pools</h3>")?;
            if org.many_clusters() {
                writeln!(
                    out,
                    "<table><tr><th>Pool</th><th>Metadata bucket</th><th>Clusters</th><th>With findings</th></tr>"
                )?;
                for pool in &org.pools {
                    let bad = pool.clusters.iter().filter(|c| !c.findings.is_empty()).count();
                    writeln!(
                        out,
                        "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{bad}</td></tr>",
                        xml(&pool.name),
                        or_dash(pool.bucket.as_deref()),
                        pool.clusters.len()
                    )?;
                }
                writeln!(out, "</table><p>The clusters with findings:</p>")?;
            }
            writeln!(
                out,
                "<table><tr><th>Pool</th><th>Metadata bucket</th><th>Cluster</th><th>Account</th><th>Region</th><th>Cluster bucket</th><th>Findings</th></tr>"
            )?;
            for pool in &org.pools {
                let declared = if pool.declared { "" } else { " (no manifest)" };
                let bucket = or_dash(pool.bucket.as_deref());
                if pool.clusters.is_empty() {
                    let class = if pool.findings.is_empty() { "" } else { " class=\"bad\"" };
                    writeln!(
                        out,
                        "<tr{class}><td><code>{}</code>{declared}</td><td><code>{bucket}</code></td><td>—</td><td></td><td></td><td></td><td>{}</td></tr>",
                        xml(&pool.name),
                        links(&pool.findings)
                    )?;
                }
                for cluster in org.shown_clusters(pool) {
                    let mut numbers = pool.findings.clone();
                    numbers.extend(&cluster.findings);
                    let class = if numbers.is_empty() { "" } else { " class=\"bad\"" };
                    writeln!(
                        out,
                        "<tr{class}><td><code>{}</code>{declared}</td><td><code>{bucket}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                        xml(&pool.name),
                        xml(&cluster.name),
                        or_dash(cluster.account.as_deref()),
                        or_dash(cluster.region.as_deref()),
                        or_dash(cluster.bucket.as_deref()),
                        links(&numbers)
                    )?;
                }
            }
            writeln!(out, "</table>")?;
        }
    }
    writeln!(out, "<h2>Diagram</h2><div class=\"diagram\">{}</div>", svg(audit))?;
    writeln!(out, "<h2>Findings</h2>")?;
    if audit.findings.is_empty() {
        writeln!(out, "<p>No findings.</p>")?;
    }
    for (rule, findings) in audit.by_rule() {
        writeln!(out, "<h3><code>{}</code> ({})</h3><ul>", xml(rule), findings.len())?;
        for f in findings {
            let severity = f.diagnostic.severity.as_str();
            writeln!(
                out,
                "<li id=\"finding-{}\">#{} <span class=\"{severity}\">{severity}</span> <code>{}:{}</code>: {}</li>",
                f.number,
                f.number,
                xml(f.file),
                f.line,
                xml(&f.diagnostic.message)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</body></html>")
}
