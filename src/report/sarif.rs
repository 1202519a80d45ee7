//! The SARIF format: SARIF 2.1.0 as GitHub code scanning accepts it. Every
//! result has a rule index, a full region (end column exclusive, counted in
//! Unicode code points) and a URI relative to `%SRCROOT%`, the repository root
//! (`Report::root`); `partialFingerprints` carry the diagnostic's fingerprint,
//! which ignores line numbers.

use super::{Report, all_findings, position};
use crate::diagnostic::{Diagnostic, Location, Severity, Suppression};
use crate::registry::{Origin, PAGES, Registry, Rule};
use crate::source::{SourceMap, path_below};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// The `partialFingerprints` key; the suffix is bumped if the hash changes.
const FINGERPRINT_KEY: &str = "planelint/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [SarifRun<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    name: String,
    short_description: Message<'a>,
    full_description: Message<'a>,
    help: MultiformatMessage<'a>,
    default_configuration: Configuration,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    deprecated_ids: &'a [String],
    /// A built-in rule's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
}

#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct MultiformatMessage<'a> {
    text: &'a str,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Message<'a>,
    locations: [SarifLocation<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// Present (and non-empty) exactly when the finding is suppressed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression<'a>>,
}

#[derive(Serialize)]
struct SarifSuppression<'a> {
    /// `inSource` for a comment, `external` for the baseline.
    kind: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

pub fn render_sarif(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let findings = all_findings(report);
    let registry = Registry::new(report.policies, report.sources).covering(findings.iter().map(|(d, _)| *d));
    let rules = registry.rules();
    let uris: Vec<String> = report
        .sources
        .iter()
        .map(|(_, file)| {
            let below = path_below(report.root, file);
            // A file outside the root (a policy directory elsewhere, or a
            // built-in policy) still gets a relative URI: its shown name,
            // never absolute and never climbing out with `../`.
            encode_uri(&super::escape::relative_path(below.as_deref().unwrap_or(&file.name)))
        })
        .collect();
    let location = |location: &Location| PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uris.get(location.source.0 as usize).cloned().unwrap_or_default(),
            uri_base_id: Some(SRCROOT),
        },
        region: region(report.sources, location),
    };
    let results = findings
        .iter()
        .map(|&(d, suppression)| SarifResult {
            rule_id: d.rule.as_str(),
            // `rules` holds every diagnostic's rule, so the index is found.
            rule_index: rules.iter().position(|r| r.id == d.rule.as_str()).unwrap_or_default(),
            level: level(d.severity),
            message: Message { text: &d.message },
            locations: [SarifLocation {
                id: None,
                physical_location: location(&d.location),
                message: None,
            }],
            related_locations: d
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| SarifLocation {
                    id: Some(i + 1),
                    physical_location: location(&r.location),
                    message: Some(Message { text: &r.message }),
                })
                .collect(),
            partial_fingerprints: fingerprints(d, report.sources),
            suppressions: suppression
                .map(|s| match s {
                    Suppression::Inline { reason } => SarifSuppression {
                        kind: "inSource",
                        justification: reason,
                    },
                    Suppression::Baseline => SarifSuppression {
                        kind: "external",
                        justification: "in the baseline",
                    },
                })
                .into_iter()
                .collect(),
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [SarifRun {
            tool: Tool {
                driver: Driver {
                    name: "planelint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules.iter().map(descriptor).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: report.execution_successful,
            }],
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                ArtifactLocation {
                    uri: directory_uri(report.root),
                    uri_base_id: None,
                },
            )]),
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    super::escape::to_json_writer(&mut *out, &log)?;
    writeln!(out)
}

fn descriptor<'a>(rule: &Rule<'a>) -> ReportingDescriptor<'a> {
    ReportingDescriptor {
        id: rule.id,
        name: pascal_case(rule.id),
        short_description: Message { text: rule.summary },
        full_description: Message { text: rule.description },
        help: MultiformatMessage {
            text: rule.description,
            markdown: format!("**{}**\n\n{}", rule.summary, rule.description),
        },
        default_configuration: Configuration {
            level: level(rule.severity),
        },
        deprecated_ids: rule.aliases,
        help_uri: (rule.origin == Origin::BuiltIn).then(|| format!("{PAGES}{}.md", rule.id)),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn region(sources: &SourceMap, location: &Location) -> Region {
    let at = position(sources, location);
    Region {
        start_line: at.line,
        start_column: at.column,
        end_line: at.end_line,
        end_column: at.end_column,
    }
}

fn fingerprints(d: &Diagnostic, sources: &SourceMap) -> BTreeMap<&'static str, String> {
    BTreeMap::from([(FINGERPRINT_KEY, d.fingerprint(sources))])
}

/// `placement-account-shared` -> `PlacementAccountShared`: SARIF's `name` is
/// meant for people and differs from the id.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Percent-encodes a relative path for a URI: everything but RFC 3986's
/// unreserved characters and `/`.
fn encode_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// `file:///abs/root/`: SARIF requires a base URI to end with `/`.
fn directory_uri(root: &Path) -> String {
    let path = root.to_string_lossy().replace('\\', "/");
    let path = encode_uri(path.trim_end_matches('/'));
    if path.starts_with('/') {
        format!("file://{path}/")
    } else {
        format!("file:///{path}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_relative() {
        assert_eq!(encode_uri("a b/c%d,e:f.yaml"), "a%20b/c%25d%2Ce%3Af.yaml");
        assert_eq!(super::super::escape::relative_path("/etc/p.yaml"), "etc/p.yaml");
        assert_eq!(directory_uri(Path::new("/work/my repo")), "file:///work/my%20repo/");
    }

    #[test]
    fn names_are_pascal_case() {
        assert_eq!(pascal_case("placement-account-shared"), "PlacementAccountShared");
        assert_eq!(pascal_case("rule1"), "Rule1");
    }
}
