//! The native manifests (`apiVersion: planelint/v1`), read strictly against a
//! small declarative schema: unknown keys, wrong types and missing required
//! keys become `manifest-schema` diagnostics on the offending key or value.

use super::{Field, Value};
use crate::diagnostic::{Diagnostic, Location, MANIFEST_SCHEMA};
use crate::source::{SourceId, Span};
use crate::yaml::{Node, NodeKind, Scalar};
use std::sync::Arc;

pub const API_VERSION: &str = "planelint/v1";

const PROVIDERS: &[&str] = &["aws", "azure", "gcp"];

/// The expected shape of a value.
enum Shape {
    String,
    Bool,
    OneOf(&'static [&'static str]),
    List(&'static Shape),
    StringMap,
    Map(&'static [Key]),
}

struct Key {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn key(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        required: false,
    }
}

const fn required(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        required: true,
    }
}

const METADATA: &[Key] = &[
    required("name", Shape::String),
    key("labels", Shape::StringMap),
    key("annotations", Shape::StringMap),
];

const DOMAIN: &[Key] = &[required("name", Shape::String), key("production", Shape::Bool)];

const PLACEMENT: &[Key] = &[
    required("domain", Shape::String),
    key("project", Shape::String),
    key("provider", Shape::OneOf(PROVIDERS)),
    key("account", Shape::String),
];

const ACCOUNT: &[Key] = &[key("provider", Shape::OneOf(PROVIDERS)), key("id", Shape::String)];

const ON_DEMAND: &[Key] = &[key("enabled", Shape::Bool), key("defaultAccount", Shape::Map(ACCOUNT))];

const DATA_PLANE_SPEC: &[Key] = &[
    key("isolation", Shape::OneOf(&["domain", "project"])),
    key("providers", Shape::OneOf(&["mixed", "single"])),
    key("domains", Shape::List(&Shape::Map(DOMAIN))),
    key("projects", Shape::List(&Shape::String)),
    key("onDemandProjects", Shape::Map(ON_DEMAND)),
    key("placements", Shape::List(&Shape::Map(PLACEMENT))),
];

const POOL_SPEC: &[Key] = &[key("metadataBucket", Shape::String)];

const CLUSTER_SPEC: &[Key] = &[
    key("pool", Shape::String),
    key("provider", Shape::OneOf(PROVIDERS)),
    key("account", Shape::String),
    key("region", Shape::String),
    key("metadataBucket", Shape::String),
    key("units", Shape::List(&Shape::String)),
];

/// The schema's own `'static` name for a key the schema knows: entity
/// fields are named by these, so no field name is ever copied.
pub fn intern(name: &str) -> Option<&'static str> {
    [
        METADATA,
        DOMAIN,
        PLACEMENT,
        ACCOUNT,
        ON_DEMAND,
        DATA_PLANE_SPEC,
        POOL_SPEC,
        CLUSTER_SPEC,
    ]
    .iter()
    .flat_map(|keys| keys.iter())
    .find(|k| k.name == name)
    .map(|k| k.name)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    DataPlane,
    ClusterPool,
    Cluster,
}

impl Kind {
    fn spec(self) -> &'static [Key] {
        match self {
            Kind::DataPlane => DATA_PLANE_SPEC,
            Kind::ClusterPool => POOL_SPEC,
            Kind::Cluster => CLUSTER_SPEC,
        }
    }
}

/// The JSON Schema of a manifest (`schema` declares its draft), built from the same key
/// tables the reader checks against, so the two cannot drift apart.
pub fn json_schema() -> serde_json::Value {
    use serde_json::json;
    let kinds = [
        ("DataPlane", Kind::DataPlane),
        ("ClusterPool", Kind::ClusterPool),
        ("Cluster", Kind::Cluster),
    ];
    let by_kind: Vec<serde_json::Value> = kinds
        .iter()
        .map(|(name, kind)| {
            json!({
                "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
                "then": {"properties": {"spec": keys_schema(kind.spec())}}
            })
        })
        .collect();
    json!({
        "$id": "https://github.com/planelint/planelint/schemas/manifest.json",
        "title": "planelint manifest",
        "description": "A planelint/v1 DataPlane, ClusterPool or Cluster manifest.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"enum": kinds.map(|(name, _)| name)},
            "metadata": keys_schema(METADATA),
            "spec": {"type": "object"}
        },
        "additionalProperties": false,
        "allOf": by_kind
    })
}

fn keys_schema(keys: &[Key]) -> serde_json::Value {
    let properties: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| (k.name.to_string(), shape_schema(&k.shape)))
        .collect();
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn shape_schema(shape: &Shape) -> serde_json::Value {
    use serde_json::json;
    match shape {
        Shape::String => json!({"type": "string"}),
        Shape::Bool => json!({"type": "boolean"}),
        Shape::OneOf(choices) => json!({"enum": choices}),
        Shape::List(item) => json!({"type": "array", "items": shape_schema(item)}),
        Shape::StringMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
        Shape::Map(keys) => keys_schema(keys),
    }
}

/// A manifest that passed the schema (possibly with some fields dropped).
#[derive(Debug)]
pub struct Manifest {
    pub kind: Kind,
    pub name: Field,
    /// The spec's fields, as read; empty when there is no spec.
    pub spec: Vec<(&'static str, Field)>,
}

/// Reads a document: `None` when it is not a planelint manifest (no
/// `planelint/...` apiVersion), or when it is one too broken to use (its
/// diagnostics are pushed).
pub fn read(root: &Node, source: SourceId, diagnostics: &mut Vec<Diagnostic>) -> Option<Manifest> {
    let api_version = root.get("apiVersion")?;
    let version = api_version.as_str()?;
    let at = |span: Span| Location { source, span };
    if version != API_VERSION {
        if version.starts_with("planelint/") {
            diagnostics.push(
                Diagnostic::error(
                    MANIFEST_SCHEMA,
                    format!("unsupported apiVersion `{version}`"),
                    at(api_version.span),
                )
                .with_help(format!("this version of planelint reads `{API_VERSION}`")),
            );
        }
        return None;
    }
    let mut reader = Reader { source, diagnostics };
    let document = root.as_mapping()?;
    let kind_node = root.get("kind");
    let kind = match kind_node.map(|k| (k, k.as_str())) {
        Some((_, Some("DataPlane"))) => Kind::DataPlane,
        Some((_, Some("ClusterPool"))) => Kind::ClusterPool,
        Some((_, Some("Cluster"))) => Kind::Cluster,
        Some((node, _)) => {
            reader.push(
                node.span,
                format!("unknown kind {}", quote(node)),
                Some("expected one of `DataPlane`, `ClusterPool`, `Cluster`".into()),
            );
            return None;
        }
        None => {
            reader.push(api_version.span, "missing required key `kind`".into(), None);
            return None;
        }
    };
    let top: &[Key] = &[
        required("apiVersion", Shape::String),
        required("kind", Shape::String),
        required("metadata", Shape::Map(METADATA)),
        key("spec", Shape::Map(kind.spec())),
    ];
    let kind_span = kind_node.map_or(api_version.span, |k| k.span);
    let fields = reader.mapping(document, top, kind_span, &|| "the manifest".to_string())?;
    let metadata = fields.iter().find(|(k, _)| *k == "metadata").map(|(_, f)| f)?;
    let name = metadata.at_path("name")?.clone();
    let spec = match fields.into_iter().find(|(k, _)| *k == "spec") {
        Some((
            _,
            Field {
                value: Value::Map(entries),
                ..
            },
        )) => entries
            .into_iter()
            .filter_map(|(name, field)| intern(&name).map(|name| (name, field)))
            .collect(),
        _ => Vec::new(),
    };
    Some(Manifest { kind, name, spec })
}

struct Reader<'d> {
    source: SourceId,
    diagnostics: &'d mut Vec<Diagnostic>,
}

/// A scalar's text, shared with the YAML tree rather than copied.
fn scalar_text(node: &Node) -> Arc<str> {
    match &node.kind {
        NodeKind::Scalar { value, .. } => value.clone(),
        _ => Arc::from(""),
    }
}

impl Reader<'_> {
    fn push(&mut self, span: Span, message: String, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(
            MANIFEST_SCHEMA,
            message,
            Location {
                source: self.source,
                span,
            },
        );
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    /// Reads a mapping's keys against `keys`; `owner` is where a missing
    /// required key is reported. `None` when a required key is missing or wrong.
    fn mapping(
        &mut self,
        entries: &[crate::yaml::Entry],
        keys: &[Key],
        owner: Span,
        // Only named when there is a problem to report.
        what: &dyn Fn() -> String,
    ) -> Option<Vec<(&'static str, Field)>> {
        let mut fields: Vec<(&'static str, Field)> = Vec::with_capacity(entries.len());
        let mut complete = true;
        for entry in entries {
            let Some(name) = entry.key.as_str() else {
                self.push(
                    entry.key.span,
                    format!("keys in {} must be strings, found {}", what(), entry.key.type_name()),
                    None,
                );
                continue;
            };
            let Some(key) = keys.iter().find(|k| k.name == name) else {
                let expected: Vec<&str> = keys.iter().map(|k| k.name).collect();
                let help = match closest(name, &expected) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("expected one of: {}", expected.join(", ")),
                };
                self.push(
                    entry.key.span,
                    format!("unknown key `{name}` in {}", what()),
                    Some(help),
                );
                continue;
            };
            if matches!(entry.value.scalar(), Some(Scalar::Null)) && !key.required {
                continue;
            }
            match self.value(&entry.value, &key.shape, name, entry.key.span) {
                Some(field) => fields.push((key.name, field)),
                None => complete &= !key.required,
            }
        }
        for key in keys.iter().filter(|k| k.required) {
            if !fields.iter().any(|(name, _)| *name == key.name)
                && !entries.iter().any(|e| e.key.as_str() == Some(key.name))
            {
                self.push(
                    owner,
                    format!("missing required key `{}` in {}", key.name, what()),
                    None,
                );
                complete = false;
            }
        }
        complete.then_some(fields)
    }

    /// Reads a value; `key_span` is where a missing required key below it is reported.
    fn value(&mut self, node: &Node, shape: &Shape, name: &str, key_span: Span) -> Option<Field> {
        let location = Location {
            source: self.source,
            span: node.span,
        };
        let value = match shape {
            Shape::String => match node.scalar() {
                Some(Scalar::String(_)) => Value::String(scalar_text(node)),
                Some(Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_)) => {
                    let text = match &node.kind {
                        NodeKind::Scalar { value, .. } => value.to_string(),
                        _ => String::new(),
                    };
                    self.push(
                        node.span,
                        format!("`{name}` must be a string, found {}", node.type_name()),
                        Some(format!("quote the value: \"{text}\"")),
                    );
                    return None;
                }
                _ => return self.wrong_type(node, name, "a string"),
            },
            Shape::Bool => match node.scalar() {
                Some(Scalar::Bool(b)) => Value::Bool(b),
                _ => return self.wrong_type(node, name, "a boolean (true or false)"),
            },
            Shape::OneOf(choices) => match node.scalar() {
                Some(Scalar::String(s)) if choices.contains(&s) => Value::String(scalar_text(node)),
                Some(Scalar::String(s)) => {
                    let listed: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
                    self.push(
                        node.span,
                        format!("`{name}` must be one of {}, found `{s}`", listed.join(", ")),
                        None,
                    );
                    return None;
                }
                _ => return self.wrong_type(node, name, "a string"),
            },
            Shape::List(item) => {
                let Some(items) = node.as_sequence() else {
                    return self.wrong_type(node, name, "a list");
                };
                Value::List(items.iter().filter_map(|i| self.value(i, item, name, i.span)).collect())
            }
            Shape::StringMap => {
                let Some(entries) = node.as_mapping() else {
                    return self.wrong_type(node, name, "a mapping of strings");
                };
                let mut fields = Vec::with_capacity(entries.len());
                for entry in entries {
                    let Some(key) = entry.key.as_str() else {
                        self.push(
                            entry.key.span,
                            format!("keys in `{name}` must be strings, found {}", entry.key.type_name()),
                            None,
                        );
                        continue;
                    };
                    if let Some(field) = self.value(&entry.value, &Shape::String, key, entry.key.span) {
                        fields.push((Arc::from(key), field));
                    }
                }
                Value::Map(fields)
            }
            Shape::Map(keys) => {
                let Some(entries) = node.as_mapping() else {
                    return self.wrong_type(node, name, "a mapping");
                };
                let fields = self.mapping(entries, keys, key_span, &|| format!("`{name}`"))?;
                Value::Map(
                    fields
                        .into_iter()
                        .map(|(name, field)| (Arc::from(name), field))
                        .collect(),
                )
            }
        };
        Some(Field { value, location })
    }

    fn wrong_type(&mut self, node: &Node, name: &str, expected: &str) -> Option<Field> {
        self.push(
            node.span,
            format!("`{name}` must be {expected}, found {}", node.type_name()),
            None,
        );
        None
    }
}

fn quote(node: &Node) -> String {
    match &node.kind {
        NodeKind::Scalar { value, .. } => format!("`{value}`"),
        _ => node.type_name().to_string(),
    }
}

/// The expected key closest to a misspelt one, if it is close enough.
fn closest<'a>(name: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|e| (edit_distance(&name.to_ascii_lowercase(), &e.to_ascii_lowercase()), *e))
        .filter(|(d, e)| *d <= 2.max(e.len() / 4))
        .min()
        .map(|(_, e)| e)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row.get(j + 1).copied().unwrap_or(0);
            let best = substitution.min(previous + 1).min(row.get(j).copied().unwrap_or(0) + 1);
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = best;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("metadataBuckt", "metadataBucket"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("pool", "pool"), 0);
        assert_eq!(
            closest("metdataBucket", &["metadataBucket", "pool"]),
            Some("metadataBucket")
        );
        assert_eq!(closest("zzz", &["metadataBucket", "pool"]), None);
    }
}
