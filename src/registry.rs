//! The rule registry: every rule a run knows, the engine's own and the
//! loaded policies alike, described once. `rules`, `explain`, the reports'
//! rule tables (SARIF, JUnit), the generated rule pages and the warning on
//! an unknown rule id in the config all read it. Imports `diagnostic`,
//! `policy` and `source`.

use crate::diagnostic::{Diagnostic, ENGINE_RULES, Severity};
use crate::policy::{self, Policy};
use crate::source::SourceMap;
use std::collections::BTreeMap;

/// Where the built-in rules' pages are: `<id>.md` in this directory.
pub const PAGES: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/");

/// Where a rule is defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin<'a> {
    /// The engine reports it itself: it has no policy.
    Engine,
    /// A policy of the built-in pack.
    BuiltIn,
    /// A policy file of the user's, by the name the run shows for it.
    File(&'a str),
}

impl<'a> Origin<'a> {
    /// `built-in`, or the policy file's name.
    pub fn name(self) -> &'a str {
        match self {
            Origin::Engine | Origin::BuiltIn => "built-in",
            Origin::File(name) => name,
        }
    }
}

/// One rule and what is said about it.
#[derive(Clone, Debug)]
pub struct Rule<'a> {
    pub id: &'a str,
    /// The severity its findings have, before the config turns it off.
    pub severity: Severity,
    pub origin: Origin<'a>,
    /// One sentence.
    pub summary: &'a str,
    /// Markdown: what it reports, why, and (in a last paragraph that starts
    /// with `Fix:`) how to fix it; the summary when there is no description.
    pub description: &'a str,
    /// Its former ids.
    pub aliases: &'a [String],
    /// Where the constraint comes from.
    pub source: Option<&'a str>,
}

impl<'a> Rule<'a> {
    /// The description without its `Fix:` paragraph.
    pub fn why(&self) -> &'a str {
        self.split_fix().0
    }

    /// The text of the description's `Fix:` paragraph.
    pub fn fix(&self) -> Option<&'a str> {
        self.split_fix().1
    }

    fn split_fix(&self) -> (&'a str, Option<&'a str>) {
        let description = self.description.trim();
        let at = if description.starts_with("Fix:") {
            Some(0)
        } else {
            description.rfind("\n\nFix:").map(|at| at + 2)
        };
        match at.and_then(|at| Some((description.get(..at)?, description.get(at + "Fix:".len()..)?))) {
            Some((why, fix)) => (why.trim_end(), Some(fix.trim())),
            None => (description, None),
        }
    }
}

/// Every rule of a run, sorted by id.
#[derive(Debug)]
pub struct Registry<'a> {
    rules: Vec<Rule<'a>>,
}

impl<'a> Registry<'a> {
    /// The loaded `policies` and the engine's rules. A policy that reuses an
    /// engine rule's id takes its place.
    pub fn new(policies: &'a [Policy], sources: &'a SourceMap) -> Registry<'a> {
        let policies = policies.iter().map(|p| Rule {
            id: p.id.as_str(),
            severity: p.severity,
            origin: match p.origin {
                policy::Origin::BuiltIn => Origin::BuiltIn,
                policy::Origin::File => sources
                    .get(p.location.source)
                    .map_or(Origin::File("file"), |file| Origin::File(&file.name)),
            },
            summary: &p.summary,
            description: if p.description.trim().is_empty() {
                &p.summary
            } else {
                &p.description
            },
            aliases: &p.aliases,
            source: p.source.as_deref(),
        });
        let engine = ENGINE_RULES.iter().map(|r| Rule {
            id: r.id,
            severity: r.severity,
            origin: Origin::Engine,
            summary: r.summary,
            description: r.description,
            aliases: &[],
            source: None,
        });
        Registry::sorted(policies.chain(engine).collect())
    }

    /// With a rule for every id `diagnostics` name that the registry lacks,
    /// described by its id alone: a report's rule table must cover every
    /// finding it lists.
    pub fn covering(self, diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Registry<'a> {
        let mut rules = self.rules;
        rules.extend(diagnostics.into_iter().map(|d| Rule {
            id: d.rule.as_str(),
            severity: d.severity,
            origin: Origin::Engine,
            summary: d.rule.as_str(),
            description: d.rule.as_str(),
            aliases: &[],
            source: None,
        }));
        Registry::sorted(rules)
    }

    /// Sorted by id; of rules with one id, the first is kept. A rule written
    /// as several policies (one per collection) is described by all of
    /// them: the description, former ids and source one of them gives.
    fn sorted(mut rules: Vec<Rule<'a>>) -> Registry<'a> {
        rules.sort_by(|a, b| a.id.cmp(b.id));
        rules.dedup_by(|later, first| {
            if later.id != first.id {
                return false;
            }
            if later.origin != Origin::Engine {
                if first.description == first.summary {
                    first.description = later.description;
                }
                if first.aliases.is_empty() {
                    first.aliases = later.aliases;
                }
                first.source = first.source.or(later.source);
            }
            true
        });
        Registry { rules }
    }

    pub fn rules(&self) -> &[Rule<'a>] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule<'a>> {
        self.rules
            .binary_search_by(|rule| rule.id.cmp(id))
            .ok()
            .and_then(|at| self.rules.get(at))
    }

    /// The rule `name` names: its id, or one of its former ids.
    pub fn resolve(&self, name: &str) -> Option<&Rule<'a>> {
        self.get(name)
            .or_else(|| self.rules.iter().find(|rule| rule.aliases.iter().any(|a| a == name)))
    }

    pub fn ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.rules.iter().map(|rule| rule.id)
    }

    /// Each former id, and the id of the rule it now names.
    pub fn renames(&self) -> Renames {
        self.rules
            .iter()
            .flat_map(|rule| rule.aliases.iter().map(|alias| (alias.clone(), rule.id.to_string())))
            .collect()
    }
}

/// Former rule ids and the ids they now name.
#[derive(Clone, Debug, Default)]
pub struct Renames(BTreeMap<String, String>);

/// From (former id, current id) pairs.
impl FromIterator<(String, String)> for Renames {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Renames {
        Renames(pairs.into_iter().collect())
    }
}

impl Renames {
    /// The id `name` stands for: itself, unless it is a former id.
    pub fn current<'n>(&'n self, name: &'n str) -> &'n str {
        self.0.get(name).map_or(name, String::as_str)
    }

    /// The former ids of `id`.
    pub fn former<'n>(&'n self, id: &'n str) -> impl Iterator<Item = &'n str> + 'n {
        self.0
            .iter()
            .filter(move |(_, now)| *now == id)
            .map(|(former, _)| former.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{FILE_UNREADABLE, Location};
    use crate::source::{SourceId, Span};

    fn rule(description: &'static str) -> Rule<'static> {
        Rule {
            id: "x",
            severity: Severity::Error,
            origin: Origin::Engine,
            summary: "s",
            description,
            aliases: &[],
            source: None,
        }
    }

    #[test]
    fn the_fix_is_the_last_paragraph_that_starts_with_fix() {
        let r = rule("What it is.\n\nFix: is not this.\n\nFix: do this,\nthen that.\n");
        assert_eq!(r.why(), "What it is.\n\nFix: is not this.");
        assert_eq!(r.fix(), Some("do this,\nthen that."));
        assert_eq!(rule("Fix: only this.").fix(), Some("only this."));
        assert_eq!(rule("Fix: only this.").why(), "");
        let no_fix = rule("It says Fix: inline, not as a paragraph.");
        assert_eq!((no_fix.why(), no_fix.fix()), (no_fix.description, None));
    }

    #[test]
    fn a_rule_of_several_policies_is_described_by_all_of_them() {
        let text = "apiVersion: planelint/v1\nkind: Policy\nmetadata: {name: one-rule}\n\
                    spec: {summary: S., forEach: pools, validations: [{expression: 'true'}]}\n---\n\
                    apiVersion: planelint/v1\nkind: Policy\nmetadata: {name: one-rule, aliases: [old-rule]}\n\
                    spec: {summary: S., description: Why., source: 'https://example.org/why', \
                    forEach: clusters, validations: [{expression: 'true'}]}\n";
        let mut sources = SourceMap::default();
        let file = crate::source::SourceFile::new("p.yaml".into(), "p.yaml".into(), std::sync::Arc::from(text));
        let source = sources.add(file);
        let (policies, problems) = policy::read(&sources, source, policy::Origin::File);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(policies.len(), 2);
        let registry = Registry::new(&policies, &sources);
        let rule = registry.resolve("old-rule").unwrap();
        assert_eq!(
            (rule.id, rule.description, rule.source, rule.aliases),
            (
                "one-rule",
                "Why.",
                Some("https://example.org/why"),
                &["old-rule".to_string()][..]
            )
        );
        assert_eq!(registry.renames().current("old-rule"), "one-rule");
    }

    #[test]
    fn every_engine_rule_is_registered_and_found_by_id() {
        let sources = SourceMap::default();
        let registry = Registry::new(&[], &sources);
        assert_eq!(registry.rules().len(), ENGINE_RULES.len());
        let rule = registry.get(FILE_UNREADABLE).map(|r| (r.origin, r.fix().is_some()));
        assert_eq!(rule, Some((Origin::Engine, true)));
        assert!(registry.get("no-such-rule").is_none());
    }

    #[test]
    fn a_report_covers_the_rules_its_findings_name() {
        let sources = SourceMap::default();
        let location = Location {
            source: SourceId(0),
            span: Span::new(0, 0),
        };
        let finding = Diagnostic::error("made-up-rule", "m".to_string(), location);
        let registry = Registry::new(&[], &sources).covering([&finding]);
        assert_eq!(registry.rules().len(), ENGINE_RULES.len() + 1);
        assert_eq!(registry.get("made-up-rule").map(|r| r.summary), Some("made-up-rule"));
    }
}
