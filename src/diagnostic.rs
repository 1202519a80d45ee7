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

/// The rules the engine itself reports, with their summaries.
pub const ENGINE_RULES: &[(&str, &str)] = &[
    (
        CLUSTER_FIELD_CONFLICT,
        "A Helm values file and the Cluster manifest of the same cluster give one field different values.",
    ),
    (
        FILE_UNREADABLE,
        "A file that was found while scanning could not be read.",
    ),
    (
        INPUT_LIMIT,
        "An input exceeds a configured limit and was not fully checked.",
    ),
    (
        MANIFEST_SCHEMA,
        "A planelint manifest or policy file does not follow its schema.",
    ),
    (POLICY_ERROR, "A policy could not be compiled or evaluated."),
    (YAML_SYNTAX, "A file is not valid YAML."),
];

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
    /// lines move.
    pub fn fingerprint(&self, sources: &SourceMap) -> String {
        let mut hash = Fnv64::new();
        hash.write(self.rule.as_str().as_bytes());
        hash.write(&[0]);
        let file = sources.get(self.location.source);
        hash.write(file.map_or("", |f| f.name.as_str()).as_bytes());
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
    diagnostics.sort_by(|a, b| {
        let name = |d: &Diagnostic| sources.get(d.location.source).map(|f| f.name.as_str());
        name(a)
            .cmp(&name(b))
            .then(a.location.span.start.cmp(&b.location.span.start))
            .then(a.location.span.end.cmp(&b.location.span.end))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.message.cmp(&b.message))
            .then_with(|| a.model_path.cmp(&b.model_path))
    });
    diagnostics.dedup();
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
