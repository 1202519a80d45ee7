//! `planelint rules` and `planelint explain`: the registry as a table, as
//! JSON or as Markdown, and one rule's documentation.

use crate::registry::{Origin, Registry, Rule};
use serde::Serialize;
use std::io::{self, Write};

/// The rule's severity, or `off` when the config turns it off.
fn level(rule: &Rule<'_>, enabled: &dyn Fn(&str) -> bool) -> &'static str {
    if enabled(rule.id) {
        rule.severity.as_str()
    } else {
        "off"
    }
}

/// A table with one row per rule: id, level, origin, summary.
pub fn render_rule_table(
    out: &mut dyn Write,
    registry: &Registry<'_>,
    enabled: &dyn Fn(&str) -> bool,
) -> io::Result<()> {
    let rules = registry.rules();
    let id_width = rules.iter().map(|r| r.id.len()).chain([4]).max().unwrap_or(4);
    let origin_width = rules
        .iter()
        .map(|r| r.origin.name().len())
        .chain([6])
        .max()
        .unwrap_or(6);
    writeln!(
        out,
        "{:id_width$}  {:8}  {:origin_width$}  SUMMARY",
        "RULE", "SEVERITY", "ORIGIN"
    )?;
    for rule in rules {
        writeln!(
            out,
            "{:id_width$}  {:8}  {:origin_width$}  {}",
            rule.id,
            level(rule, enabled),
            rule.origin.name(),
            super::strip_controls(rule.summary)
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    /// The severity its findings have.
    severity: &'a str,
    /// `severity`, or `off` when the config turns it off.
    level: &'a str,
    /// `engine` (no policy) or `policy`.
    kind: &'a str,
    /// `built-in`, or the policy file.
    origin: &'a str,
    summary: &'a str,
    description: &'a str,
    fix: Option<&'a str>,
    /// Former ids, still accepted wherever a rule is named.
    aliases: &'a [String],
    /// Where the constraint comes from.
    source: Option<&'a str>,
}

/// Every rule as a JSON array, for scripts: `planelint rules --format json`.
pub fn render_rules_json(
    out: &mut dyn Write,
    registry: &Registry<'_>,
    enabled: &dyn Fn(&str) -> bool,
) -> io::Result<()> {
    let rules: Vec<RuleJson<'_>> = registry
        .rules()
        .iter()
        .map(|rule| RuleJson {
            id: rule.id,
            severity: rule.severity.as_str(),
            level: level(rule, enabled),
            kind: match rule.origin {
                Origin::Engine => "engine",
                Origin::BuiltIn | Origin::File(_) => "policy",
            },
            origin: rule.origin.name(),
            summary: rule.summary,
            description: rule.why(),
            fix: rule.fix(),
            aliases: rule.aliases,
            source: rule.source,
        })
        .collect();
    super::escape::to_json_writer(&mut *out, &rules)?;
    writeln!(out)
}

/// Every rule as a Markdown table linking each to its page in `pages`
/// (`rules/` gives `rules/<id>.md`): the index of the rule reference.
pub fn render_rules_markdown(out: &mut dyn Write, registry: &Registry<'_>, pages: &str) -> io::Result<()> {
    writeln!(out, "| rule | severity | summary |")?;
    writeln!(out, "|---|---|---|")?;
    for rule in registry.rules() {
        let summary = super::strip_controls(rule.summary).replace('|', "\\|");
        // Only the built-in rules have pages.
        let id = match rule.origin {
            Origin::BuiltIn => format!("[`{0}`]({pages}{0}.md)", rule.id),
            Origin::Engine | Origin::File(_) => format!("`{}`", rule.id),
        };
        writeln!(out, "| {id} | {} | {summary} |", rule.severity.as_str())?;
    }
    Ok(())
}

/// The rule's summary, level, origin and description (with its fix).
pub fn render_explain(out: &mut dyn Write, rule: &Rule<'_>, enabled: &dyn Fn(&str) -> bool) -> io::Result<()> {
    writeln!(out, "{}: {}", rule.id, super::strip_controls(rule.summary))?;
    writeln!(out)?;
    writeln!(out, "severity: {}", level(rule, enabled))?;
    writeln!(out, "origin: {}", rule.origin.name())?;
    if !rule.aliases.is_empty() {
        writeln!(out, "formerly: {}", rule.aliases.join(", "))?;
    }
    if let Some(source) = rule.source {
        writeln!(out, "source: {}", super::strip_controls(source))?;
    }
    let description = rule.description.trim();
    // A rule without a description has its summary as one: said once.
    if !description.is_empty() && description != rule.summary.trim() {
        writeln!(out)?;
        for line in description.lines() {
            writeln!(out, "{}", super::strip_controls(line))?;
        }
    }
    Ok(())
}
