//! A value read from one of the files planelint reads, and where it was
//! written: what the schema reader returns and what the model's entities
//! hold. Imports `diagnostic`.

use crate::diagnostic::Location;
use std::sync::Arc;

/// A field's value: what CEL sees.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Arc<str>),
    Bool(bool),
    Number(f64),
    List(Vec<Field>),
    Map(Vec<(Arc<str>, Field)>),
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub value: Value,
    pub location: Location,
}

impl Field {
    pub fn string(text: &str, location: Location) -> Field {
        Field {
            value: Value::String(Arc::from(text)),
            location,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A list's items; none for any other value.
    pub fn items(&self) -> &[Field] {
        match &self.value {
            Value::List(items) => items,
            _ => &[],
        }
    }

    /// The field at a dotted path below this one (`defaultAccount.id`).
    pub fn at_path(&self, path: &str) -> Option<&Field> {
        let mut field = self;
        for segment in path.split('.') {
            let Value::Map(entries) = &field.value else {
                return None;
            };
            field = entries
                .iter()
                .find(|(name, _)| name.as_ref() == segment)
                .map(|(_, f)| f)?;
        }
        Some(field)
    }
}
