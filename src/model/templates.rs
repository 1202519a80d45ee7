//! Flyte's cluster resource templates and the variables flyteadmin fills
//! them with. flyteadmin's cluster resource controller writes each template
//! into every project's namespace after replacing `{{ name }}` (exactly so:
//! one space inside each pair of braces) with `namespace`, `project`,
//! `domain`, a `templateData` value, or the namespace's domain's
//! `customData` value (a flytectl cluster resource attribute overrides it).
//! Read here: flyte-core's `cluster_resource_manager.templates` and
//! flyte-binary's `clusterResourceTemplates.inline` (the templates), and
//! `cluster_resources.customData` / `templateData` (the variables), in
//! values files and in flyteadmin's own config.

use super::{Collection, Field, Proto, Value, Wrapping};
use crate::diagnostic::Location;
use crate::source::Span;
use crate::yaml::{Node, Scalar, embedded};
use std::sync::Arc;

/// How deep the blocks are searched for.
const SEARCH_DEPTH: usize = 8;

/// The templates and variables of one document.
pub fn extract(root: &Node, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>) {
    search(root, wrapping, 0, out);
}

fn search(node: &Node, wrapping: &Wrapping<'_>, depth: usize, out: &mut Vec<Proto>) {
    if depth >= SEARCH_DEPTH {
        return;
    }
    if let Some(items) = node.as_sequence() {
        for item in items {
            search(item, wrapping, depth + 1, out);
        }
        return;
    }
    for entry in node.as_mapping().unwrap_or_default() {
        match entry.key.as_str() {
            Some("cluster_resource_manager") => {
                for template in entry
                    .value
                    .get("templates")
                    .and_then(Node::as_sequence)
                    .unwrap_or_default()
                {
                    if let (Some(name), Some(text)) =
                        (template.get("key").and_then(Node::as_str), template.get("value"))
                    {
                        references(name, text, wrapping, out);
                    }
                }
            }
            Some("clusterResourceTemplates") => {
                for template in entry.value.get("inline").and_then(Node::as_mapping).unwrap_or_default() {
                    if let Some(name) = template.key.as_str() {
                        references(name, &template.value, wrapping, out);
                    }
                }
            }
            Some("cluster_resources") => {
                if let Some(data) = entry.value.get("customData") {
                    custom_data(data, wrapping, out);
                }
                if let Some(data) = entry.value.get("templateData") {
                    variables("templateData", None, data, wrapping, out);
                }
            }
            _ => {}
        }
        search(&entry.value, wrapping, depth + 1, out);
    }
}

/// A map's entries, or those of a list of maps, merged: how flyteadmin's
/// config reader takes both (flyte-core writes lists of one-key maps).
fn entries(node: &Node) -> impl Iterator<Item = &crate::yaml::Entry> {
    let single = node.as_mapping().unwrap_or_default().iter();
    let listed = node
        .as_sequence()
        .unwrap_or_default()
        .iter()
        .flat_map(|item| item.as_mapping().unwrap_or_default());
    single.chain(listed)
}

/// `customData`: per domain, its variables.
fn custom_data(node: &Node, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>) {
    for per_domain in entries(node) {
        let Some(domain) = per_domain.key.as_str().filter(|d| !d.is_empty()) else {
            continue;
        };
        let domain = Field::string(domain, at(wrapping, per_domain.key.span));
        variables("customData", Some(&domain), &per_domain.value, wrapping, out);
    }
}

/// Each variable of a `customData` domain or of `templateData`, with the
/// value flyteadmin reads: `value`, else `valueFrom` (an environment
/// variable or a file, as `env:NAME` or `file:PATH`), else none (empty).
fn variables(setting: &str, domain: Option<&Field>, node: &Node, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>) {
    for entry in entries(node) {
        let Some(name) = entry.key.as_str().filter(|n| !n.is_empty()) else {
            continue;
        };
        let source = entry.value.get("valueFrom");
        let from = |key: &str, prefix: &str| {
            let node = source?.get(key)?;
            let text = node.as_str().filter(|t| !t.is_empty())?;
            Some(Field::string(&format!("{prefix}{text}"), at(wrapping, node.span)))
        };
        let value = match entry.value.get("value") {
            Some(node) => {
                let text = scalar_text(node).unwrap_or_default();
                references_in_value(name, node, &text, wrapping, out);
                Some(Field::string(&text, at(wrapping, node.span)))
            }
            None => None,
        }
        .filter(|value| value.as_str().is_some_and(|t| !t.is_empty()))
        .or_else(|| from("envVar", "env:"))
        .or_else(|| from("filePath", "file:"))
        .unwrap_or_else(|| {
            let node = entry.value.get("value").unwrap_or(&entry.key);
            Field::string("", at(wrapping, node.span))
        });
        let mut fields = vec![
            ("variable", Field::string(name, at(wrapping, entry.key.span))),
            ("setting", Field::string(setting, at(wrapping, entry.key.span))),
            ("value", value),
        ];
        if let Some(domain) = domain {
            fields.push(("domain", domain.clone()));
        }
        out.push(Proto {
            collection: Collection::TemplateVariables,
            key: Arc::from(name),
            location: at(wrapping, entry.key.span),
            fields,
        });
    }
}

/// The text of a scalar as flyteadmin decodes it into a string.
fn scalar_text(node: &Node) -> Option<String> {
    Some(match node.scalar()? {
        Scalar::String(s) => s.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null => String::new(),
    })
}

fn at(wrapping: &Wrapping<'_>, span: Span) -> Location {
    Location {
        source: wrapping.source,
        span,
    }
}

/// The variables template `name` uses.
fn references(name: &str, text: &Node, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>) {
    if let Some(body) = text.as_str() {
        scan(name, text, body, wrapping, out);
    }
}

/// The variables a customData value uses: flyteadmin replaces them too,
/// after the value is put in.
fn references_in_value(name: &str, node: &Node, text: &str, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>) {
    scan(&format!("customData {name}"), node, text, wrapping, out);
}

/// Every `{{ name }}` of `body` (the value of `node`) whose inside is one
/// identifier: what flyteadmin fills in. Helm's own `{{ .Values.x }}` and
/// anything else in braces is not flyteadmin's.
fn scan(template: &str, node: &Node, body: &str, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>) {
    let mut from = 0;
    while let Some(open) = body.get(from..).and_then(|rest| rest.find("{{")).map(|i| from + i) {
        let Some(close) = body
            .get(open + 2..)
            .and_then(|rest| rest.find("}}"))
            .map(|i| open + 2 + i)
        else {
            return;
        };
        from = close + 2;
        let inside = body.get(open + 2..close).unwrap_or_default();
        let variable = inside.trim();
        let identifier = variable.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && variable.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            continue;
        }
        let span = embedded::span_within(wrapping.text, node, Span::new(open, close + 2));
        let location = at(wrapping, span);
        let written = body.get(open..close + 2).unwrap_or_default();
        out.push(Proto {
            collection: Collection::TemplateReferences,
            key: Arc::from(variable),
            location,
            fields: vec![
                ("variable", Field::string(variable, location)),
                ("written", Field::string(written, location)),
                ("template", Field::string(template, at(wrapping, node.span))),
                (
                    "exact",
                    Field {
                        value: Value::Bool(inside == format!(" {variable} ")),
                        location,
                    },
                ),
            ],
        });
    }
}
