//! The native manifests (`apiVersion: planelint/v1`), read strictly by the
//! schema reader against the key tables below: unknown keys, wrong types and
//! missing required keys become `manifest-schema` diagnostics on the
//! offending key or value.

use super::{Field, Value};
use crate::diagnostic::{Diagnostic, Location, MANIFEST_SCHEMA};
use crate::schema::{self, Key, Reader, STRING_MAP, Shape, key, required};
use crate::source::{SourceId, Span};
use crate::yaml::Node;

pub const API_VERSION: &str = "planelint/v1";

const PROVIDERS: &[&str] = &["aws", "azure", "gcp"];

const KIND: Shape = Shape::OneOf(&["DataPlane", "ClusterPool", "Cluster"]);

const METADATA: &[Key] = &[
    required("name", Shape::String),
    key("labels", STRING_MAP),
    key("annotations", STRING_MAP),
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

/// The JSON Schema of a manifest, built from the same key
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
                "then": {"properties": {"spec": schema::keys_schema(kind.spec())}}
            })
        })
        .collect();
    json!({
        "$schema": schema::DRAFT,
        "$id": "https://github.com/planelint/planelint/schemas/manifest.json",
        "title": "planelint manifest",
        "description": "A planelint/v1 DataPlane, ClusterPool or Cluster manifest.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"enum": kinds.map(|(name, _)| name)},
            "metadata": schema::keys_schema(METADATA),
            "spec": {"type": "object"}
        },
        "additionalProperties": false,
        "allOf": by_kind
    })
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
    let mut reader = Reader::new(source, diagnostics);
    let document = root.as_mapping()?;
    let kind_node = root.get("kind");
    let Some(kind_node) = kind_node else {
        reader.push(api_version.span, "missing required key `kind`".into(), None);
        return None;
    };
    let kind = reader.value(kind_node, &KIND, "kind", kind_node.span)?;
    let kind = match kind.as_str() {
        Some("DataPlane") => Kind::DataPlane,
        Some("ClusterPool") => Kind::ClusterPool,
        Some("Cluster") => Kind::Cluster,
        _ => return None,
    };
    let top: &[Key] = &[
        required("apiVersion", Shape::String),
        required("kind", Shape::String),
        required("metadata", Shape::Map(METADATA)),
        key("spec", Shape::Map(kind.spec())),
    ];
    let kind_span = kind_node.span;
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
