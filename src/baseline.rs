//! Baseline: the findings of a repo recorded by fingerprint (rule, file and
//! model path; never line numbers), so a run can hide them and show only new
//! ones. Imports `source`, `diagnostic` and `registry` (rule renames).

use crate::diagnostic::{Diagnostic, Suppressed, Suppression, fails_closed};
use crate::registry::Renames;
use crate::source::{SourceId, SourceMap};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

const VERSION: u32 = 1;

/// The file's shape: the rule, file and message are there for people
/// reading a diff; only the fingerprint is matched.
#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    file: String,
    rule: String,
    fingerprint: String,
    message: String,
}

/// A baseline as read: how many findings of each fingerprint it holds.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    counts: BTreeMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not a planelint baseline: {0}")]
    Format(String),
    #[error("baseline version {0} is not supported (expected {VERSION})")]
    Version(u32),
}

impl Baseline {
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let file: File = serde_json::from_str(text).map_err(|e| BaselineError::Format(e.to_string()))?;
        if file.version != VERSION {
            return Err(BaselineError::Version(file.version));
        }
        let mut counts = BTreeMap::new();
        for entry in file.findings {
            *counts.entry(entry.fingerprint).or_insert(0) += 1;
        }
        Ok(Baseline { counts })
    }

    /// Moves the findings the baseline holds out of `diagnostics`. A
    /// fingerprint recorded N times hides at most N findings, so a new
    /// finding identical to an old one still shows. A finding recorded under
    /// a former id of its rule (`renames`) is still the same finding.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>, sources: &SourceMap, renames: &Renames) -> Vec<Suppressed> {
        let mut left = self.counts.clone();
        // A file that could not be fully checked keeps all its findings: what
        // was recorded for it may no longer be all there is.
        let unchecked: BTreeSet<SourceId> = diagnostics
            .iter()
            .filter(|d| fails_closed(d.rule.as_str()))
            .map(|d| d.location.source)
            .collect();
        let mut hidden = Vec::new();
        let mut kept = Vec::with_capacity(diagnostics.len());
        for diagnostic in diagnostics.drain(..) {
            if fails_closed(diagnostic.rule.as_str()) || unchecked.contains(&diagnostic.location.source) {
                kept.push(diagnostic);
                continue;
            }
            let recorded = std::iter::once(diagnostic.rule.as_str())
                .chain(renames.former(diagnostic.rule.as_str()))
                .map(|rule| diagnostic.fingerprint_as(rule, sources))
                .find(|fingerprint| left.get(fingerprint).is_some_and(|count| *count > 0));
            match recorded.and_then(|fingerprint| left.get_mut(&fingerprint)) {
                Some(count) => {
                    *count -= 1;
                    hidden.push(Suppressed {
                        diagnostic,
                        suppression: Suppression::Baseline,
                    });
                }
                _ => kept.push(diagnostic),
            }
        }
        *diagnostics = kept;
        hidden
    }
}

/// Writes `diagnostics` as a baseline, sorted by file, rule and fingerprint
/// so that moving lines does not change the file.
pub fn write(out: &mut dyn Write, diagnostics: &[Diagnostic], sources: &SourceMap) -> io::Result<()> {
    let mut findings: Vec<Entry> = diagnostics
        .iter()
        .map(|d| Entry {
            file: sources
                .get(d.location.source)
                .map_or("", |f| f.name.as_str())
                .to_string(),
            rule: d.rule.to_string(),
            fingerprint: d.fingerprint(sources),
            message: d.message.clone(),
        })
        .collect();
    findings.sort();
    let file = File {
        version: VERSION,
        findings,
    };
    crate::report::escape::to_json_writer(&mut *out, &file)?;
    writeln!(out)
}
