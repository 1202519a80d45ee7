//! What planelint did not read: a YAML document that no reader recognized
//! (not a manifest, values file, Flyte config, flytectl file, or config
//! wrapped in one of those), with a one-line guess of what it is, so that a
//! run can say plainly how much of a repo it understood.

use crate::diagnostic::Location;
use crate::source::SourceId;
use crate::yaml::{Node, NodeKind};

/// A document no reader recognized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unread {
    /// Its first key (or the document itself when it is not a mapping).
    pub location: Location,
    /// What it looks like: `a Kubernetes Deployment (apps/v1)`.
    pub guess: String,
}

impl Unread {
    pub fn of(root: &Node, source: SourceId) -> Unread {
        let first_key = root
            .as_mapping()
            .and_then(|entries| entries.first())
            .map(|e| e.key.span);
        Unread {
            location: Location {
                source,
                span: first_key.unwrap_or(root.span),
            },
            guess: guess(root),
        }
    }
}

/// How many keys a guess names when it knows nothing better.
const KEYS_NAMED: usize = 3;

fn guess(root: &Node) -> String {
    let text = |key: &str| root.get(key).and_then(Node::as_str);
    let has = |key: &str| root.get(key).is_some();
    match &root.kind {
        NodeKind::Scalar { .. } => return "a scalar, not a mapping".to_string(),
        NodeKind::Sequence(items) => return format!("a list of {} items", items.len()),
        NodeKind::Mapping(_) => {}
    }
    if let (Some(kind), Some(api)) = (text("kind"), text("apiVersion")) {
        return format!("a Kubernetes {} ({})", shown(kind), shown(api));
    }
    let known = [
        (
            has("apiVersion") && has("name") && has("version"),
            "a Helm chart's Chart.yaml",
        ),
        (has("jobs") && has("on"), "a GitHub Actions workflow"),
        (
            has("repos") && root.get("repos").and_then(Node::as_sequence).is_some(),
            "a pre-commit config",
        ),
        (has("services") && !has("clusterName"), "a Compose file"),
        (has("openapi") || has("swagger"), "an OpenAPI document"),
        (has("resources") || has("bases"), "a kustomization"),
        (
            [
                "operator",
                "executor",
                "fluentbit",
                "clusterresourcesync",
                "leaseworker",
                "dcgm-exporter",
            ]
            .iter()
            .any(|key| has(key))
                || root.get("global").is_some_and(|g| g.get("CONTROLPLANE_HOST").is_some()),
            "Union data-plane values that name no cluster (an overlay)",
        ),
        (
            has("flyteadmin") || has("flytepropeller") || has("configuration"),
            "Flyte chart values naming no cluster, cluster configs, routes or per-domain identities",
        ),
        (
            has("global") || has("image") || has("replicaCount"),
            "Helm values of another chart",
        ),
    ];
    if let Some((_, what)) = known.iter().find(|(matched, _)| *matched) {
        return (*what).to_string();
    }
    let keys: Vec<&str> = root
        .as_mapping()
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| entry.key.as_str())
        .collect();
    let named: Vec<String> = keys
        .iter()
        .take(KEYS_NAMED)
        .map(|k| format!("`{}`", shown(k)))
        .collect();
    let more = keys.len().saturating_sub(KEYS_NAMED);
    match (named.is_empty(), more) {
        (true, _) => "an empty mapping".to_string(),
        (false, 0) => format!("a mapping of {}", named.join(", ")),
        (false, more) => format!("a mapping of {} and {more} more", named.join(", ")),
    }
}

/// How many characters of a name from the document a guess shows.
const NAME_CHARS: usize = 40;

/// A name from the document as a guess shows it: short, and with no
/// character that could move a terminal's cursor or reorder its text.
fn shown(name: &str) -> String {
    let hidden = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out: String = name
        .chars()
        .take(NAME_CHARS)
        .map(|c| if hidden(c) { '\u{fffd}' } else { c })
        .collect();
    if name.chars().nth(NAME_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn guessed(text: &str) -> String {
        let loaded = yaml::load(text, SourceId(0), yaml::Limits::default());
        guess(loaded.documents[0].root.as_ref().unwrap())
    }

    #[test]
    fn a_guess_names_what_the_document_looks_like() {
        assert_eq!(
            guessed("apiVersion: apps/v1\nkind: Deployment\n"),
            "a Kubernetes Deployment (apps/v1)"
        );
        assert_eq!(
            guessed("apiVersion: v2\nname: dataplane\nversion: 1.0.0\n"),
            "a Helm chart's Chart.yaml"
        );
        assert_eq!(guessed("on: push\njobs: {}\n"), "a GitHub Actions workflow");
        assert_eq!(
            guessed("a: 1\nb: 2\nc: 3\nd: 4\n"),
            "a mapping of `a`, `b`, `c` and 1 more"
        );
        assert_eq!(guessed("- 1\n- 2\n"), "a list of 2 items");
        assert_eq!(
            guessed("global:\n  CONTROLPLANE_HOST: cp.example.com\n"),
            "Union data-plane values that name no cluster (an overlay)"
        );
        assert_eq!(
            guessed("configmap:\n  clusters: {clusterConfigs: []}\nflyteadmin: {}\n"),
            "Flyte chart values naming no cluster, cluster configs, routes or per-domain identities"
        );
        assert_eq!(guessed("\"\\e[2J\": 1\n"), "a mapping of `\u{fffd}[2J`");
    }
}
