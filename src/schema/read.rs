//! The one reader of planelint's own formats: a YAML node checked against a
//! [`Shape`], giving the values it accepted. Every problem is a
//! `manifest-schema` diagnostic on the offending key or value; a wrong
//! optional value is dropped and the rest still read.

use super::{Key, Shape, closest};
use crate::diagnostic::{Diagnostic, Location, MANIFEST_SCHEMA, RuleId};
use crate::field::{Field, Value};
use crate::source::{SourceId, Span};
use crate::yaml::{Entry, Node, NodeKind, Scalar};
use std::sync::Arc;

pub struct Reader<'d> {
    source: SourceId,
    diagnostics: &'d mut Vec<Diagnostic>,
}

impl<'d> Reader<'d> {
    pub fn new(source: SourceId, diagnostics: &'d mut Vec<Diagnostic>) -> Reader<'d> {
        Reader { source, diagnostics }
    }

    pub fn at(&self, span: Span) -> Location {
        Location {
            source: self.source,
            span,
        }
    }

    /// A `manifest-schema` error, with an optional help line.
    pub fn push(&mut self, span: Span, message: String, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(MANIFEST_SCHEMA, message, self.at(span));
        diagnostic.help = help;
        self.diagnostics.push(diagnostic);
    }

    /// Reads a whole document, `what` (`the config file`), against `keys`;
    /// `owner` is where a missing required key is reported. `None` when it
    /// is not a mapping or a required key is missing or wrong.
    pub fn document(
        &mut self,
        node: &Node,
        keys: &[Key],
        owner: Span,
        what: &str,
    ) -> Option<Vec<(&'static str, Field)>> {
        let Some(entries) = node.as_mapping() else {
            self.push(
                node.span,
                format!("{what} must be a mapping, found {}", node.type_name()),
                None,
            );
            return None;
        };
        self.mapping(entries, keys, owner, &|| what.to_string())
    }

    /// Reads a mapping's keys against `keys`; `owner` is where a missing
    /// required key is reported. `None` when a required key is missing or wrong.
    pub fn mapping(
        &mut self,
        entries: &[Entry],
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
            if !entries.iter().any(|e| e.key.as_str() == Some(key.name)) {
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

    /// Reads a value named `name` in messages; `key_span` is where a
    /// missing required key below it is reported.
    pub fn value(&mut self, node: &Node, shape: &Shape, name: &str, key_span: Span) -> Option<Field> {
        let location = self.at(node.span);
        let value = match shape {
            Shape::String => Value::String(self.string(node, name)?),
            Shape::Expression => {
                let text = self.string(node, name)?;
                if text.trim().is_empty() {
                    self.push(node.span, format!("`{name}` is an empty expression"), None);
                    return None;
                }
                Value::String(Arc::from(text.trim_end()))
            }
            Shape::RuleId => {
                let text = self.string(node, name)?;
                if !RuleId::is_kebab_case(&text) {
                    self.push(
                        node.span,
                        format!("rule id `{text}` must be kebab-case (lower-case words joined by `-`)"),
                        None,
                    );
                    return None;
                }
                Value::String(text)
            }
            Shape::Bool => match node.scalar() {
                Some(Scalar::Bool(b)) => Value::Bool(b),
                _ => return self.wrong_type(node, name, "a boolean (true or false)"),
            },
            Shape::OneOf(choices) => Value::String(self.one_of(node, name, choices)?),
            Shape::List(item) | Shape::NonEmptyList(item) => {
                let Some(items) = node.as_sequence() else {
                    return self.wrong_type(node, name, "a list");
                };
                if items.is_empty() && matches!(shape, Shape::NonEmptyList(_)) {
                    self.push(node.span, format!("`{name}` must list at least one item"), None);
                    return None;
                }
                Value::List(items.iter().filter_map(|i| self.value(i, item, name, i.span)).collect())
            }
            Shape::MapOf(key_shape, value_shape) => {
                let Some(entries) = node.as_mapping() else {
                    return self.wrong_type(node, name, "a mapping");
                };
                let mut fields = Vec::with_capacity(entries.len());
                for entry in entries {
                    if entry.key.as_str().is_none() {
                        self.push(
                            entry.key.span,
                            format!("keys in `{name}` must be strings, found {}", entry.key.type_name()),
                            None,
                        );
                        continue;
                    }
                    let Some(Field {
                        value: Value::String(key),
                        ..
                    }) = self.value(&entry.key, key_shape, name, entry.key.span)
                    else {
                        continue;
                    };
                    let path = format!("{name}.{key}");
                    if let Some(field) = self.value(&entry.value, value_shape, &path, entry.key.span) {
                        fields.push((key, field));
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

    /// A string scalar's text, shared with the YAML tree rather than copied.
    fn string(&mut self, node: &Node, name: &str) -> Option<Arc<str>> {
        match (&node.kind, node.scalar()) {
            (NodeKind::Scalar { value, .. }, Some(Scalar::String(_))) => Some(value.clone()),
            (NodeKind::Scalar { value, .. }, Some(Scalar::Int(_) | Scalar::Float(_) | Scalar::Bool(_))) => {
                self.push(
                    node.span,
                    format!("`{name}` must be a string, found {}", node.type_name()),
                    Some(format!("quote the value: \"{value}\"")),
                );
                None
            }
            _ => {
                self.wrong_type(node, name, "a string");
                None
            }
        }
    }

    /// A scalar written as one of `choices`: its text as written, so `off`
    /// and `on` are words here whatever YAML version reads them.
    fn one_of(&mut self, node: &Node, name: &str, choices: &[&str]) -> Option<Arc<str>> {
        let listed = || match choices {
            [only] => format!("`{only}`"),
            _ => {
                let quoted: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
                format!("one of {}", quoted.join(", "))
            }
        };
        let text = match &node.kind {
            NodeKind::Scalar { value, .. } if !matches!(node.scalar(), Some(Scalar::Null)) => value,
            _ => {
                self.wrong_type(node, name, &listed());
                return None;
            }
        };
        if choices.contains(&text.as_ref()) {
            return Some(text.clone());
        }
        let help = closest(text, choices).map(|close| format!("did you mean `{close}`?"));
        self.push(
            node.span,
            format!("`{name}` must be {}, found `{text}`", listed()),
            help,
        );
        None
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
