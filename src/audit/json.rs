//! The model as data: each organization's collections, every entity and
//! field with the file, line and column it was read from, so audits can feed
//! other tools and tests can assert what was modeled. Its shape is stable:
//! keys may be added, never renamed; a rename bumps `version`.

use crate::model::{Entity, Field, Model, Value};
use crate::source::SourceMap;
use serde_json::{Map, Value as Json, json};
use std::io::{self, Write};

const VERSION: u32 = 1;

/// Writes the models as one JSON object.
pub fn render_model_json(out: &mut dyn Write, models: &[Model], sources: &SourceMap) -> io::Result<()> {
    let models: Vec<Json> = models
        .iter()
        .map(|model| {
            let collections: Map<String, Json> = model
                .collections
                .iter()
                .filter(|(_, entities)| !entities.is_empty())
                .map(|(collection, entities)| {
                    let entities = entities.iter().map(|entity| entity_json(entity, sources)).collect();
                    (collection.name().to_string(), Json::Array(entities))
                })
                .collect();
            json!({
                "organization": model.name.as_deref(),
                "collections": collections,
            })
        })
        .collect();
    let document = json!({"version": VERSION, "models": models});
    crate::report::escape::to_json_writer(&mut *out, &document)?;
    writeln!(out)
}

fn entity_json(entity: &Entity, sources: &SourceMap) -> Json {
    let mut object = place(&entity.location, sources);
    object.insert("key".to_string(), Json::from(entity.key.as_ref()));
    object.insert("model_path".to_string(), Json::from(entity.model_path()));
    let fields: Map<String, Json> = entity
        .fields
        .iter()
        .map(|(name, field)| ((*name).to_string(), field_json(field, sources)))
        .collect();
    object.insert("fields".to_string(), Json::Object(fields));
    Json::Object(object)
}

fn field_json(field: &Field, sources: &SourceMap) -> Json {
    let value = match &field.value {
        Value::String(s) => Json::from(s.as_ref()),
        Value::Bool(b) => Json::from(*b),
        // Whole numbers as integers: `weight: 1` reads back as 1, not 1.0.
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Json::from(*n as i64),
        Value::Number(n) => Json::from(*n),
        Value::List(items) => Json::Array(items.iter().map(|item| field_json(item, sources)).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, field)| (key.to_string(), field_json(field, sources)))
                .collect(),
        ),
    };
    let mut object = place(&field.location, sources);
    object.insert("value".to_string(), value);
    Json::Object(object)
}

/// `file`, `line` and `column` of a location (1-based).
fn place(location: &crate::diagnostic::Location, sources: &SourceMap) -> Map<String, Json> {
    let mut object = Map::new();
    if let Some(file) = sources.get(location.source) {
        let at = file.line_col(file.clamp(location.span).start);
        object.insert("file".to_string(), Json::from(file.name.as_str()));
        object.insert("line".to_string(), Json::from(at.line));
        object.insert("column".to_string(), Json::from(at.column));
    }
    object
}
