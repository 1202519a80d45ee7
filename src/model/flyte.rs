//! The Flyte adapter: multi-cluster configuration (`clusters.clusterConfigs`,
//! `clusters.labelClusterMap`, `clusters.defaultExecutionLabel`) wherever it
//! is nested in a values or config file, and flytectl attribute files
//! (execution cluster labels, cluster resource attributes). Adapters are
//! lenient: a field of an unexpected type is left out, never an error, since
//! these files belong to other tools.

use super::{Collection, Field, Proto, Value, values};
use crate::diagnostic::Location;
use crate::source::{SourceId, Span};
use crate::yaml::{Node, Scalar};
use std::sync::Arc;

/// How deep a `clusters` block is searched for.
const SEARCH_DEPTH: usize = 8;

const ATTRIBUTE_FILE_KEYS: &[&str] = &["domain", "project", "workflow", "value", "attributes"];

/// The Flyte entities of one document.
pub fn extract(root: &Node, source: SourceId, out: &mut Vec<Proto>) {
    if !attribute_file(root, source, out) {
        find_cluster_blocks(root, source, 0, out);
    }
}

fn at(source: SourceId, span: Span) -> Location {
    Location { source, span }
}

fn string_field(node: &Node, source: SourceId) -> Option<Field> {
    node.as_str()
        .filter(|s| !s.is_empty())
        .map(|s| Field::string(s, at(source, node.span)))
}

fn number(node: &Node) -> Option<f64> {
    match node.scalar()? {
        Scalar::Int(i) => Some(i as f64),
        Scalar::Float(f) => Some(f),
        _ => None,
    }
}

/// A flytectl attribute file: `domain` and `project` (either or both: a
/// project-level file has no domain), optional `workflow`, and `value` (an
/// execution cluster label) or `attributes` (cluster resources). flytectl
/// decodes the keys in any letter case, and so does planelint.
fn attribute_file(root: &Node, source: SourceId, out: &mut Vec<Proto>) -> bool {
    let Some(entries) = root.as_mapping() else {
        return false;
    };
    let get = |name: &str| {
        entries
            .iter()
            .find(|e| e.key.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .map(|e| &e.value)
    };
    let known = entries.iter().all(|e| {
        e.key
            .as_str()
            .is_some_and(|k| ATTRIBUTE_FILE_KEYS.iter().any(|known| known.eq_ignore_ascii_case(k)))
    });
    if !known || get("value").is_none() && get("attributes").is_none() {
        return false;
    }
    let mut fields = Vec::new();
    for name in ["domain", "project", "workflow"] {
        if let Some(field) = get(name).and_then(|n| string_field(n, source)) {
            fields.push((name, field));
        }
    }
    let text = |name: &str| fields.iter().find(|(n, _)| *n == name).and_then(|(_, f)| f.as_str());
    let key = match (text("domain"), text("project")) {
        (Some(domain), Some(project)) => format!("{domain}/{project}"),
        (Some(domain), None) => domain.to_string(),
        (None, Some(project)) => format!("*/{project}"),
        (None, None) => return false,
    };
    let Some(location) = fields.first().map(|(_, f)| f.location) else {
        return false;
    };
    out.push(Proto {
        collection: Collection::UnitRefs,
        key: Arc::from(key.as_str()),
        location,
        fields: fields.clone(),
    });
    // A cluster resource attribute sets a template variable for the unit,
    // and may set its identity.
    for entry in get("attributes").and_then(Node::as_mapping).unwrap_or_default() {
        if let Some(name) = entry.key.as_str().filter(|n| !n.is_empty()) {
            let mut variable_fields = fields.clone();
            variable_fields.push(("variable", Field::string(name, at(source, entry.key.span))));
            variable_fields.push(("setting", Field::string("attributes", at(source, entry.key.span))));
            out.push(Proto {
                collection: Collection::TemplateVariables,
                key: Arc::from(name),
                location: at(source, entry.key.span),
                fields: variable_fields,
            });
        }
        let Some(setting) = entry.key.as_str().filter(|n| IDENTITY_SETTINGS.contains(n)) else {
            continue;
        };
        if let Some(identity) = string_field(&entry.value, source).filter(is_identity) {
            let mut identity_fields = fields.clone();
            identity_fields.push(("words", words(&identity)));
            identity_fields.push(("identity", identity.clone()));
            identity_fields.push(("setting", Field::string(setting, at(source, entry.key.span))));
            out.push(Proto {
                collection: Collection::Identities,
                key: Arc::from(key.as_str()),
                location: identity.location,
                fields: identity_fields,
            });
        }
    }
    if let Some(label) = get("value").and_then(|n| string_field(n, source)) {
        let mut label_fields = fields;
        label_fields.push(("label", label.clone()));
        out.push(Proto {
            collection: Collection::ExecutionLabels,
            key: Arc::from(label.as_str().unwrap_or_default()),
            location: label.location,
            fields: label_fields,
        });
    }
    true
}

fn is_cluster_block(node: &Node) -> bool {
    node.as_mapping().is_some_and(|entries| {
        entries.iter().any(|e| {
            matches!(
                e.key.as_str(),
                Some("clusterConfigs" | "labelClusterMap" | "defaultExecutionLabel")
            )
        })
    })
}

fn find_cluster_blocks(node: &Node, source: SourceId, depth: usize, out: &mut Vec<Proto>) {
    // Lists too: a `kind: List`'s items, an Argo CD Application's sources.
    if let Some(items) = node.as_sequence() {
        if depth < SEARCH_DEPTH {
            for item in items {
                find_cluster_blocks(item, source, depth + 1, out);
            }
        }
        return;
    }
    let Some(entries) = node.as_mapping() else {
        return;
    };
    for entry in entries {
        if entry.key.as_str() == Some("clusters") && is_cluster_block(&entry.value) {
            cluster_block(&entry.value, source, out);
        } else if entry.key.as_str() == Some("customData") {
            custom_data(&entry.value, source, out);
        } else if depth < SEARCH_DEPTH {
            find_cluster_blocks(&entry.value, source, depth + 1, out);
        }
    }
}

/// One `clusters` block. Its `group` names it, so that cluster configs are
/// compared within one `clusterConfigs` list and routes within one map.
fn cluster_block(block: &Node, source: SourceId, out: &mut Vec<Proto>) {
    let made_before = out.len();
    let group = Field::string(&format!("{}@{}", source.0, block.span.start), at(source, block.span));
    for config in block.get("clusterConfigs").and_then(Node::as_sequence).unwrap_or(&[]) {
        let Some(name) = config.get("name").and_then(|n| string_field(n, source)) else {
            continue;
        };
        let mut fields = vec![("name", name.clone()), ("group", group.clone())];
        if let Some(endpoint) = config.get("endpoint").and_then(|n| string_field(n, source)) {
            fields.push(("endpoint", endpoint));
        }
        if let Some(Scalar::Bool(enabled)) = config.get("enabled").and_then(Node::scalar) {
            let node = config.get("enabled").map_or(config.span, |n| n.span);
            fields.push((
                "enabled",
                Field {
                    value: Value::Bool(enabled),
                    location: at(source, node),
                },
            ));
        }
        if let Some(credentials) = config.get("auth").and_then(|auth| credentials(auth, source)) {
            fields.push(("credentials", credentials));
        }
        out.push(Proto {
            collection: Collection::FlyteClusters,
            key: Arc::from(name.as_str().unwrap_or_default()),
            location: name.location,
            fields,
        });
    }
    for entry in block.get("labelClusterMap").and_then(Node::as_mapping).unwrap_or(&[]) {
        let Some(label) = string_field(&entry.key, source) else {
            continue;
        };
        let mut total = 0.0;
        for route in entry.value.as_sequence().unwrap_or(&[]) {
            let Some(cluster) = route.get("id").and_then(|n| string_field(n, source)) else {
                continue;
            };
            let mut fields = vec![
                ("label", label.clone()),
                ("cluster", cluster.clone()),
                ("group", group.clone()),
            ];
            if let Some((weight, node)) = route.get("weight").and_then(|n| number(n).map(|w| (w, n))) {
                total += weight;
                fields.push((
                    "weight",
                    Field {
                        value: Value::Number(weight),
                        location: at(source, node.span),
                    },
                ));
            }
            out.push(Proto {
                collection: Collection::Routes,
                key: label.as_str().map(Arc::from).unwrap_or_default(),
                location: cluster.location,
                fields,
            });
        }
        let fields = vec![
            ("label", label.clone()),
            ("group", group.clone()),
            (
                "totalWeight",
                Field {
                    value: Value::Number(total),
                    location: label.location,
                },
            ),
        ];
        out.push(Proto {
            collection: Collection::Labels,
            key: label.as_str().map(Arc::from).unwrap_or_default(),
            location: label.location,
            fields,
        });
    }
    let default_label = block.get("defaultExecutionLabel").and_then(|n| string_field(n, source));
    if let Some(label) = &default_label {
        let fields = vec![("label", label.clone()), ("group", group.clone())];
        out.push(Proto {
            collection: Collection::ExecutionLabels,
            key: label.as_str().map(Arc::from).unwrap_or_default(),
            location: label.location,
            fields,
        });
    }
    // An empty block (a chart's defaults) routes nothing.
    if out.len() == made_before {
        return;
    }
    // The block itself, where a finding on its routing as a whole points:
    // its `labelClusterMap` key, else its `clusterConfigs` key.
    let key_of = |name: &str| {
        block
            .as_mapping()
            .unwrap_or_default()
            .iter()
            .find(|e| e.key.as_str() == Some(name))
            .map(|e| at(source, e.key.span))
    };
    let location = key_of("labelClusterMap")
        .or_else(|| key_of("clusterConfigs"))
        .unwrap_or_else(|| at(source, block.span));
    let mut fields = vec![("group", group)];
    if let Some(label) = default_label {
        fields.push(("defaultExecutionLabel", label));
    }
    out.push(Proto {
        collection: Collection::ClusterBlocks,
        key: Arc::from("clusters"),
        location,
        fields,
    });
}

/// The settings of Flyte's cluster resource manager that name the identity a
/// domain's workloads run as: an IAM role, or a GCP service account.
const IDENTITY_SETTINGS: &[&str] = &["defaultIamRole", "defaultUserRoleValue", "gsa"];

/// `cluster_resources.customData`: per domain, a list of settings, each
/// `{name: {value: ...}}`. A domain's identity becomes an `identities`
/// entity; a value still templated (`{{ ... }}`) or a placeholder is none.
fn custom_data(node: &Node, source: SourceId, out: &mut Vec<Proto>) {
    // Names the block, so that its domains' identities compare among themselves.
    let group = Field::string(&format!("{}@{}", source.0, node.span.start), at(source, node.span));
    for per_domain in node.as_sequence().unwrap_or(&[]) {
        for domain_entry in per_domain.as_mapping().unwrap_or(&[]) {
            let Some(domain) = string_field(&domain_entry.key, source) else {
                continue;
            };
            for setting in domain_entry.value.as_sequence().unwrap_or(&[]) {
                for entry in setting.as_mapping().unwrap_or(&[]) {
                    let Some(name) = entry.key.as_str().filter(|n| IDENTITY_SETTINGS.contains(n)) else {
                        continue;
                    };
                    let Some(identity) = entry
                        .value
                        .get("value")
                        .and_then(|n| string_field(n, source))
                        .filter(is_identity)
                    else {
                        continue;
                    };
                    out.push(Proto {
                        collection: Collection::Identities,
                        key: domain.as_str().map(Arc::from).unwrap_or_default(),
                        location: identity.location,
                        fields: vec![
                            ("domain", domain.clone()),
                            ("group", group.clone()),
                            ("words", words(&identity)),
                            ("identity", identity),
                            ("setting", Field::string(name, domain.location)),
                        ],
                    });
                }
            }
        }
    }
}

/// Whether an identity setting holds a real value: not still templated
/// (`{{ .Values.x }}`, flyteadmin's `{{ domain }}`), not a placeholder.
fn is_identity(identity: &Field) -> bool {
    identity
        .as_str()
        .is_some_and(|text| !text.contains("{{") && !values::is_placeholder(text))
}

/// The words of an identity, lower-cased (`arn:aws:iam::1:role/flyte-dev`
/// has `flyte` and `dev`): what it names, for `unit-identity-copied`.
fn words(identity: &Field) -> Field {
    let text = identity.as_str().unwrap_or_default().to_ascii_lowercase();
    let words = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| Field::string(w, identity.location))
        .collect();
    Field {
        value: Value::List(words),
        location: identity.location,
    }
}

/// A cluster's credentials: its token and certificate paths, compared as
/// one value; located at the token path.
fn credentials(auth: &Node, source: SourceId) -> Option<Field> {
    let token = auth.get("tokenPath").and_then(|n| string_field(n, source));
    let cert = auth.get("certPath").and_then(|n| string_field(n, source));
    let location = token.as_ref().or(cert.as_ref())?.location;
    let text = format!(
        "{}|{}",
        token.as_ref().and_then(Field::as_str).unwrap_or_default(),
        cert.as_ref().and_then(Field::as_str).unwrap_or_default()
    );
    Some(Field::string(&text, location))
}
