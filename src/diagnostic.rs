//! Diagnostics as plain data: rule id, severity, message, locations, model
//! path and fingerprint. Imports only `source`.

use crate::source::{SourceId, SourceMap, Span};
use std::fmt;
use std::sync::Arc;

/// A rule id: stable, kebab-case, naming the problem.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(Arc<str>);

impl RuleId {
    pub fn new(id: &str) -> RuleId {
        RuleId(Arc::from(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-case ASCII words joined by single dashes.
    pub fn is_kebab_case(id: &str) -> bool {
        !id.is_empty()
            && id
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
            && id.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file that is not valid YAML.
pub const YAML_SYNTAX: &str = "yaml-syntax";
/// A planelint manifest (or policy file) that does not follow its schema.
pub const MANIFEST_SCHEMA: &str = "manifest-schema";
/// A policy that failed to compile or to evaluate on an entity.
pub const POLICY_ERROR: &str = "policy-error";
/// An input over one of the configured limits (size, depth, aliases, documents).
pub const INPUT_LIMIT: &str = "input-limit";
/// A file that could not be read.
pub const FILE_UNREADABLE: &str = "file-unreadable";
/// A Helm values file and the `Cluster` manifest of the same cluster disagree.
pub const CLUSTER_FIELD_CONFLICT: &str = "cluster-field-conflict";

/// The rules that say something was not checked: a run fails closed on
/// them. No suppression, baseline or rule setting hides them.
pub const FAIL_CLOSED: &[&str] = &[YAML_SYNTAX, INPUT_LIMIT, FILE_UNREADABLE, POLICY_ERROR];

/// Whether `rule` says that something was not checked.
pub fn fails_closed(rule: &str) -> bool {
    FAIL_CLOSED.contains(&rule)
}

/// A suppression comment without a rule id or a reason, or with a bad date.
pub const SUPPRESSION_INVALID: &str = "suppression-invalid";
/// A suppression comment whose `until=` date has passed.
pub const SUPPRESSION_EXPIRED: &str = "suppression-expired";
/// A suppression comment that matches no finding.
pub const SUPPRESSION_UNUSED: &str = "suppression-unused";

/// A rule the engine itself reports: it has no policy file, so its
/// documentation lives here.
pub struct EngineRule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// Markdown: what it reports, why, and how to fix it.
    pub description: &'static str,
}

/// The rules the engine itself reports, sorted by id.
pub const ENGINE_RULES: &[EngineRule] = &[
    EngineRule {
        id: CLUSTER_FIELD_CONFLICT,
        severity: Severity::Error,
        summary: "Two files that describe the same cluster disagree on a field, or put it in two pools.",
        description: "A Union data-plane values file and a `planelint/v1` `Cluster` manifest with the \
same cluster name describe one cluster: the manifest gives its pool, the values file the rest. \
When both give a field (account, region, provider, metadata bucket...) with different values, one \
of them is wrong, and the cluster is not what one of the files says. Likewise a cluster that a \
Union pool file lists as a member while another pool (its manifest's, or another pool file's) \
holds it: a cluster lives in exactly one pool.\n\n\
Fix: make the files agree, or remove the field (or the membership) from one of them.",
    },
    EngineRule {
        id: FILE_UNREADABLE,
        severity: Severity::Error,
        summary: "A file that was found while scanning could not be read.",
        description: "A YAML file under a scanned path could not be read (permissions, a \
broken symbolic link, a symlink loop), so it was not checked.\n\n\
Fix: make the file readable, or exclude it with `exclude:` in `.planelint.yaml` or `.gitignore`.",
    },
    EngineRule {
        id: INPUT_LIMIT,
        severity: Severity::Error,
        summary: "An input exceeds a configured limit and was not fully checked.",
        description: "A file is larger, more deeply nested, expands more aliases or holds more \
documents than planelint accepts. The limits keep hostile input from exhausting memory or the \
stack; the part past the limit was not checked.\n\n\
Fix: split the file, or remove the deep nesting or alias expansion.",
    },
    EngineRule {
        id: MANIFEST_SCHEMA,
        severity: Severity::Error,
        summary: "A planelint manifest or policy file does not follow its schema.",
        description: "A `planelint/v1` manifest, a policy file or `.planelint.yaml` has an unknown \
key, a value of the wrong type, a value outside an enumeration or a missing required key. \
planelint reads manifests strictly so that a typo is not silently ignored.\n\n\
Fix: correct the key or value the finding points at (`planelint schema manifest` prints the \
schema).",
    },
    EngineRule {
        id: POLICY_ERROR,
        severity: Severity::Error,
        summary: "A policy could not be compiled or evaluated.",
        description: "A policy's CEL expression does not compile, exceeds the expression limits, \
or failed (or ran out of budget) on an entity. The entity was not checked by that policy.\n\n\
Fix: correct the expression the finding points at.",
    },
    EngineRule {
        id: SUPPRESSION_EXPIRED,
        severity: Severity::Warning,
        summary: "A suppression comment's `until=` date has passed.",
        description: "`# planelint: ignore[rule] until=YYYY-MM-DD reason` suppresses a finding \
until the given day. After it, the suppression no longer applies and the finding is reported \
again, so temporary exceptions do not become permanent.\n\n\
Fix: fix the finding and remove the comment, or extend the date.",
    },
    EngineRule {
        id: SUPPRESSION_INVALID,
        severity: Severity::Warning,
        summary: "A suppression comment names no rule, gives no reason or is malformed.",
        description: "A `# planelint:` comment must read `# planelint: ignore[rule-id, ...] reason`, \
optionally with `until=YYYY-MM-DD`. A suppression with no rule id, no reason or a bad date \
suppresses nothing: every exception names what it silences and why.\n\n\
Fix: `# planelint: ignore[placement-account-shared] shared sandbox account, see TICKET-1`.",
    },
    EngineRule {
        id: SUPPRESSION_UNUSED,
        severity: Severity::Warning,
        summary: "A suppression comment matches no finding.",
        description: "A suppression names a rule that reports nothing on the line it covers (the \
comment's own line, or the next non-comment line for a comment on a line of its own). Stale \
suppressions hide future findings, so they are reported. A suppression of a rule that is turned \
off is not reported.\n\n\
Fix: remove the rule id (or the whole comment).",
    },
    EngineRule {
        id: YAML_SYNTAX,
        severity: Severity::Error,
        summary: "A file is not valid YAML.",
        description: "A scanned file cannot be parsed as YAML (also: a duplicate key, invalid \
UTF-8). Nothing after the error in that file was checked.\n\n\
Fix: correct the syntax at the position shown.",
    },
];

/// Why a finding is not shown: it is kept, marked, in JSON and SARIF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suppression {
    /// A `# planelint: ignore[...]` comment, with its reason.
    Inline { reason: String },
    /// The finding is in the `--baseline` file.
    Baseline,
}

/// A finding hidden by a suppression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub diagnostic: Diagnostic,
    pub suppression: Suppression,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "note" => Some(Severity::Note),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A byte span in one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub source: SourceId,
    pub span: Span,
}

/// A secondary location, possibly in another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: RuleId,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// The offending field named by entity keys, e.g.
    /// `placements[staging/project-2].account`; `None` for file-level findings.
    pub model_path: Option<String>,
    pub related: Vec<Related>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(rule: &str, severity: Severity, message: impl Into<String>, location: Location) -> Self {
        Diagnostic {
            rule: RuleId::new(rule),
            severity,
            message: message.into(),
            location,
            model_path: None,
            related: Vec::new(),
            help: None,
        }
    }

    pub fn error(rule: &str, message: impl Into<String>, location: Location) -> Self {
        Diagnostic::new(rule, Severity::Error, message, location)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }

    /// A hash of rule, file and model path (or, without a model path, the
    /// offending line's text with whitespace folded): stable when unrelated
    /// lines move. The file is named by its path in the repository, so a
    /// baseline holds whatever directory planelint runs from.
    pub fn fingerprint(&self, sources: &SourceMap) -> String {
        self.fingerprint_as(self.rule.as_str(), sources)
    }

    /// The fingerprint the finding would have if its rule were `rule`.
    pub fn fingerprint_as(&self, rule: &str, sources: &SourceMap) -> String {
        let mut hash = Fnv64::new();
        hash.write(rule.as_bytes());
        hash.write(&[0]);
        let file = sources.get(self.location.source);
        hash.write(sources.repo_name(self.location.source).unwrap_or("").as_bytes());
        hash.write(&[0]);
        match (&self.model_path, file) {
            (Some(path), _) => hash.write(path.as_bytes()),
            (None, Some(file)) => {
                let line = file.line_col(self.location.span.start).line;
                let folded = file.line_text(line).split_whitespace().collect::<Vec<_>>().join(" ");
                hash.write(folded.as_bytes());
            }
            (None, None) => {}
        }
        format!("{:016x}", hash.finish())
    }
}

/// FNV-1a, 64 bits: tiny, fast and identical on every platform and release,
/// which is all a fingerprint needs.
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Sorts diagnostics by file, line, column, rule and message, and drops exact
/// duplicates, so output is the same whatever order they were produced in.
pub fn sort(diagnostics: &mut Vec<Diagnostic>, sources: &SourceMap) {
    diagnostics.sort_by(|a, b| compare(a, b, sources));
    diagnostics.dedup();
}

/// The output order: file, line, column, rule, message.
pub fn compare(a: &Diagnostic, b: &Diagnostic, sources: &SourceMap) -> std::cmp::Ordering {
    let name = |d: &Diagnostic| sources.get(d.location.source).map(|f| f.name.as_str());
    name(a)
        .cmp(&name(b))
        .then(a.location.span.start.cmp(&b.location.span.start))
        .then(a.location.span.end.cmp(&b.location.span.end))
        .then_with(|| a.rule.cmp(&b.rule))
        .then_with(|| a.message.cmp(&b.message))
        .then_with(|| a.model_path.cmp(&b.model_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_ids() {
        assert!(RuleId::is_kebab_case("placement-account-shared"));
        assert!(RuleId::is_kebab_case("rule1"));
        assert!(!RuleId::is_kebab_case("Placement"));
        assert!(!RuleId::is_kebab_case("a--b"));
        assert!(!RuleId::is_kebab_case("-a"));
        assert!(!RuleId::is_kebab_case(""));
        assert!(!RuleId::is_kebab_case("1a"));
    }

    #[test]
    fn fnv_matches_reference_vector() {
        let mut h = Fnv64::new();
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
