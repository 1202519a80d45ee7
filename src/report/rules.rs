//! `planelint rules` and `planelint explain`: the rule list as a table, and
//! one rule's documentation.

use crate::diagnostic::ENGINE_RULES;
use crate::policy::{Origin, Policy};
use crate::source::SourceMap;
use std::io::{self, Write};

/// One rule as `rules` and `explain` show it.
#[derive(Debug)]
pub struct RuleDoc<'a> {
    pub id: &'a str,
    /// The effective severity, or `off`.
    pub level: &'static str,
    /// `built-in`, or the policy file's path.
    pub origin: String,
    pub summary: &'a str,
    /// Markdown.
    pub description: &'a str,
}

/// Every loaded policy and every engine rule, sorted by id. `enabled` tells
/// whether a rule is turned on (else its level is `off`).
pub fn rule_docs<'a>(policies: &'a [Policy], sources: &SourceMap, enabled: impl Fn(&str) -> bool) -> Vec<RuleDoc<'a>> {
    let level = |id: &str, severity: crate::diagnostic::Severity| if enabled(id) { severity.as_str() } else { "off" };
    let mut docs: Vec<RuleDoc<'a>> = policies
        .iter()
        .map(|p| RuleDoc {
            id: p.id.as_str(),
            level: level(p.id.as_str(), p.severity),
            origin: match p.origin {
                Origin::BuiltIn => "built-in".to_string(),
                Origin::File => sources
                    .get(p.location.source)
                    .map_or_else(|| "file".to_string(), |f| f.name.clone()),
            },
            summary: &p.summary,
            description: &p.description,
        })
        .chain(ENGINE_RULES.iter().map(|r| RuleDoc {
            id: r.id,
            level: level(r.id, r.severity),
            origin: "built-in".to_string(),
            summary: r.summary,
            description: r.description,
        }))
        .collect();
    // A policy that reuses an engine rule's id comes first and is kept.
    docs.sort_by(|a, b| a.id.cmp(b.id));
    docs.dedup_by(|a, b| a.id == b.id);
    docs
}

/// A table with one row per rule: id, severity, origin, summary.
pub fn render_rule_table(out: &mut dyn Write, docs: &[RuleDoc<'_>]) -> io::Result<()> {
    let id_width = docs.iter().map(|d| d.id.len()).chain([4]).max().unwrap_or(4);
    let origin_width = docs.iter().map(|d| d.origin.len()).chain([6]).max().unwrap_or(6);
    writeln!(
        out,
        "{:id_width$}  {:8}  {:origin_width$}  SUMMARY",
        "RULE", "SEVERITY", "ORIGIN"
    )?;
    for doc in docs {
        writeln!(
            out,
            "{:id_width$}  {:8}  {:origin_width$}  {}",
            doc.id,
            doc.level,
            doc.origin,
            super::strip_controls(doc.summary)
        )?;
    }
    Ok(())
}

/// The rule's summary, severity, origin and description (with its fix).
pub fn render_explain(out: &mut dyn Write, doc: &RuleDoc<'_>) -> io::Result<()> {
    writeln!(out, "{}: {}", doc.id, super::strip_controls(doc.summary))?;
    writeln!(out)?;
    writeln!(out, "severity: {}", doc.level)?;
    writeln!(out, "origin: {}", doc.origin)?;
    let description = doc.description.trim();
    if !description.is_empty() {
        writeln!(out)?;
        for line in description.lines() {
            writeln!(out, "{}", super::strip_controls(line))?;
        }
    }
    Ok(())
}
