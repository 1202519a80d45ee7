//! JSON Schemas (draft-07, which the YAML language server of VS Code
//! validates fully) of the files planelint reads, for editors'
//! YAML language servers: manifests (built from the reader's own key
//! tables), policy files and `.planelint.yaml`. Imports `model`.

use serde_json::{Value, json};

/// The draft every schema declares.
const DRAFT: &str = "http://json-schema.org/draft-07/schema#";
const SEVERITIES: [&str; 3] = ["error", "warning", "note"];

pub fn manifest() -> Value {
    let mut schema = crate::model::manifest_schema();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$schema".into(), Value::from(DRAFT));
    }
    schema
}

/// A policy file, as `policy::read` accepts it.
pub fn policy() -> Value {
    let expression = json!({"type": "string", "minLength": 1});
    let named_expression = |extra: Value| {
        let mut properties = json!({"name": {"type": "string"}, "expression": expression});
        if let (Some(map), Value::Object(more)) = (properties.as_object_mut(), extra) {
            map.extend(more);
        }
        json!({"type": "object", "properties": properties, "required": ["expression"], "additionalProperties": false})
    };
    json!({
        "$schema": DRAFT,
        "$id": "https://github.com/planelint/planelint/schemas/policy.json",
        "title": "planelint policy",
        "description": "A planelint policy: CEL validations over the model of a data plane.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"const": "planelint/v1"},
            "kind": {"const": "Policy"},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                    "name": rule_id(),
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "annotations": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            },
            "spec": {
                "type": "object",
                "required": ["summary", "validations"],
                "additionalProperties": false,
                "properties": {
                    "severity": {"enum": SEVERITIES},
                    "summary": {"type": "string"},
                    "description": {"type": "string", "description": "Markdown: why, and how to fix."},
                    "forEach": {"enum": crate::model::COLLECTIONS},
                    "matchConditions": {"type": "array", "items": named_expression(json!({}))},
                    "variables": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "expression"],
                            "additionalProperties": false,
                            "properties": {"name": {"type": "string"}, "expression": expression}
                        }
                    },
                    "validations": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["expression"],
                            "additionalProperties": false,
                            "properties": {
                                "expression": expression,
                                "message": {"type": "string"},
                                "messageExpression": expression,
                                "field": {"type": "string"},
                                "related": expression
                            }
                        }
                    }
                }
            }
        }
    })
}

/// `.planelint.yaml`; `formats` are the names `format:` accepts.
pub fn config(formats: &[&str]) -> Value {
    let globs = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "$schema": DRAFT,
        "$id": "https://github.com/planelint/planelint/schemas/config.json",
        "title": "planelint config (.planelint.yaml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "policies": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Extra policy directories, relative to this file."
            },
            "rules": {
                "type": "object",
                "propertyNames": rule_id(),
                "additionalProperties": {"enum": ["off", "error", "warning", "note"]}
            },
            "include": globs,
            "exclude": globs,
            "failLevel": {"enum": SEVERITIES},
            "format": {"enum": formats},
            "layers": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "description": "Helm values files that together describe one cluster, each list in layering order (later wins), relative to this file."
            }
        }
    })
}

/// The shape `RuleId::is_kebab_case` accepts.
fn rule_id() -> Value {
    json!({"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"})
}
