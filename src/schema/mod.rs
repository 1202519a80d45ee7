//! The declared shapes of planelint's own YAML formats (manifests, policies,
//! `.planelint.yaml`): a [`Shape`] table per format, one [`Reader`] that
//! checks a YAML node against it, and one writer of JSON Schemas (draft-07,
//! which the YAML language server of VS Code validates fully) from the same
//! tables, so what the reader accepts and what editors are told cannot drift
//! apart. The tables live with their formats (`model`, `policy`, `config`).
//! Imports `yaml`, `field`, `diagnostic` and `source`.

mod read;

pub use read::Reader;

use serde_json::{Value, json};

/// The draft every schema declares.
pub const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

/// What a value must look like.
pub enum Shape {
    String,
    /// A CEL expression: a string that is not blank.
    Expression,
    /// A rule id: lower-case words joined by `-`.
    RuleId,
    Bool,
    /// A string, one of these.
    OneOf(&'static [&'static str]),
    List(&'static Shape),
    /// A list of at least one item.
    NonEmptyList(&'static Shape),
    /// A mapping of any keys of the first shape to values of the second.
    MapOf(&'static Shape, &'static Shape),
    /// A mapping of exactly these keys.
    Map(&'static [Key]),
}

/// Labels and annotations.
pub const STRING_MAP: Shape = Shape::MapOf(&Shape::String, &Shape::String);

/// A key of a [`Shape::Map`].
pub struct Key {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    /// What the key means, for editors.
    pub doc: Option<&'static str>,
}

pub const fn key(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        required: false,
        doc: None,
    }
}

pub const fn required(name: &'static str, shape: Shape) -> Key {
    Key {
        name,
        shape,
        required: true,
        doc: None,
    }
}

impl Key {
    pub const fn doc(self, doc: &'static str) -> Key {
        Key { doc: Some(doc), ..self }
    }
}

/// A whole file's schema: `keys` at the top, with its draft, id and title.
pub fn document(id: &str, title: &str, description: &str, keys: &[Key]) -> Value {
    let mut schema = keys_schema(keys);
    if let Some(object) = schema.as_object_mut() {
        object.insert("$schema".into(), Value::from(DRAFT));
        object.insert(
            "$id".into(),
            Value::from(format!("https://github.com/planelint/planelint/schemas/{id}")),
        );
        object.insert("title".into(), Value::from(title));
        object.insert("description".into(), Value::from(description));
    }
    schema
}

/// The JSON Schema of a mapping of exactly `keys`.
pub fn keys_schema(keys: &[Key]) -> Value {
    let properties: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| {
            let mut schema = shape_schema(&k.shape);
            if let (Some(doc), Some(object)) = (k.doc, schema.as_object_mut()) {
                object.insert("description".into(), Value::from(doc));
            }
            (k.name.to_string(), schema)
        })
        .collect();
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

pub fn shape_schema(shape: &Shape) -> Value {
    match shape {
        Shape::String => json!({"type": "string"}),
        Shape::Expression => json!({"type": "string", "minLength": 1}),
        Shape::RuleId => json!({"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"}),
        Shape::Bool => json!({"type": "boolean"}),
        Shape::OneOf([only]) => json!({"const": only}),
        Shape::OneOf(choices) => json!({"enum": choices}),
        Shape::List(item) => json!({"type": "array", "items": shape_schema(item)}),
        Shape::NonEmptyList(item) => json!({"type": "array", "items": shape_schema(item), "minItems": 1}),
        Shape::MapOf(Shape::String, value) => json!({"type": "object", "additionalProperties": shape_schema(value)}),
        Shape::MapOf(key, value) => json!({
            "type": "object",
            "propertyNames": shape_schema(key),
            "additionalProperties": shape_schema(value)
        }),
        Shape::Map(keys) => keys_schema(keys),
    }
}

/// The expected word closest to a misspelt one, if it is close enough: a
/// few edits away, or cut short (`warn` for `warning`).
fn closest<'a>(name: &str, expected: &[&'a str]) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    expected
        .iter()
        .filter_map(|e| {
            let word = e.to_ascii_lowercase();
            let distance = edit_distance(&name, &word);
            let cut_short = name.len() >= 3 && word.starts_with(&name);
            (distance <= 2.max(e.len() / 4) || cut_short).then_some((distance, *e))
        })
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
        assert_eq!(closest("warn", &["error", "warning", "note"]), Some("warning"));
    }

    #[test]
    fn shapes_become_draft_07_keywords() {
        const LEVELS: Shape = Shape::OneOf(&["off", "on"]);
        const KEYS: &[Key] = &[
            required("id", Shape::RuleId).doc("The rule."),
            key("kind", Shape::OneOf(&["Policy"])),
            key("checks", Shape::NonEmptyList(&Shape::Expression)),
            key("rules", Shape::MapOf(&Shape::RuleId, &LEVELS)),
            key("labels", STRING_MAP),
        ];
        assert_eq!(
            document("x.json", "x", "An x.", KEYS),
            json!({
                "$schema": DRAFT,
                "$id": "https://github.com/planelint/planelint/schemas/x.json",
                "title": "x",
                "description": "An x.",
                "type": "object",
                "required": ["id"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", "description": "The rule."},
                    "kind": {"const": "Policy"},
                    "checks": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                    "rules": {
                        "type": "object",
                        "propertyNames": {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"},
                        "additionalProperties": {"enum": ["off", "on"]}
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            })
        );
    }
}
