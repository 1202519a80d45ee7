//! Config wrapped in Kubernetes objects, as `helm template`, kustomize,
//! `kubectl get -o yaml` and GitOps tools hand it over: the YAML text of a
//! `ConfigMap`'s `data` (and a `Secret`'s `stringData`), the values of a
//! Flux `HelmRelease` and of an Argo CD `Application`, and each of these
//! inside a `kind: List`. What is inside is read by the other adapters, with
//! spans in the enclosing file.

use super::{Proto, flyte, templates, values};
use crate::diagnostic::Diagnostic;
use crate::source::SourceId;
use crate::yaml::{self, Limits, Node, NodeKind, embedded};
use rustc_hash::FxHashSet;
use std::cell::RefCell;

/// The file's text and where it came from, for the adapters.
pub struct Wrapping<'a> {
    pub text: &'a str,
    pub source: SourceId,
    pub limits: Limits,
    /// A layered values file's values are read with its group.
    pub layer: bool,
    /// The texts already read, by the address of their value: aliases of
    /// one anchored text share it, and it is read once, however many
    /// aliases repeat it.
    pub texts_read: RefCell<FxHashSet<usize>>,
}

/// Reads what the Kubernetes object `root` wraps, if it wraps config.
pub fn extract(root: &Node, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>, diagnostics: &mut Vec<Diagnostic>) {
    match root.get("kind").and_then(Node::as_str) {
        Some("List") => {
            for item in root.get("items").and_then(Node::as_sequence).unwrap_or_default() {
                // One level, as kubectl writes them. The Flyte adapter has
                // already searched the items' own nodes.
                if item.get("kind").and_then(Node::as_str) != Some("List") {
                    extract(item, wrapping, out, diagnostics);
                }
            }
        }
        Some("ConfigMap") => texts(root.get("data"), wrapping, out, diagnostics),
        Some("Secret") => texts(root.get("stringData"), wrapping, out, diagnostics),
        Some("HelmRelease") => {
            if let Some(values) = root.get("spec").and_then(|spec| spec.get("values")) {
                values_of(values, wrapping, out, diagnostics);
            }
        }
        Some("Application") => {
            let spec = root.get("spec");
            let single = spec.and_then(|spec| spec.get("source")).into_iter();
            let many = spec
                .and_then(|spec| spec.get("sources"))
                .and_then(Node::as_sequence)
                .unwrap_or_default();
            for helm in single.chain(many).filter_map(|source| source.get("helm")) {
                if let Some(object) = helm.get("valuesObject") {
                    values_of(object, wrapping, out, diagnostics);
                }
                if let Some(text) = helm.get("values") {
                    read_text(text, wrapping, true, out, diagnostics);
                }
            }
        }
        _ => {}
    }
}

fn values_of(node: &Node, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>, diagnostics: &mut Vec<Diagnostic>) {
    if !wrapping.layer {
        values::extract(&[(node, wrapping.source)], out, diagnostics);
    }
    values::settings(node, wrapping.source, out);
}

/// The entries of a ConfigMap's `data` (or a Secret's `stringData`): those
/// named `*.yaml`/`*.yml` are YAML, and a syntax error in one is a finding;
/// another entry is read when its text is a YAML mapping.
fn texts(data: Option<&Node>, wrapping: &Wrapping<'_>, out: &mut Vec<Proto>, diagnostics: &mut Vec<Diagnostic>) {
    for entry in data.and_then(Node::as_mapping).unwrap_or_default() {
        let named_yaml = entry
            .key
            .as_str()
            .is_some_and(|key| key.ends_with(".yaml") || key.ends_with(".yml"));
        read_text(&entry.value, wrapping, named_yaml, out, diagnostics);
    }
}

fn read_text(
    node: &Node,
    wrapping: &Wrapping<'_>,
    named_yaml: bool,
    out: &mut Vec<Proto>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let (Some(text), NodeKind::Scalar { value, .. }) = (node.as_str(), &node.kind) else {
        return;
    };
    // Most data entries are not YAML: a mapping needs a `: ` or `:` at an
    // end of line before it is worth parsing.
    if !named_yaml && !text.contains(":\n") && !text.contains(": ") {
        return;
    }
    if !wrapping.texts_read.borrow_mut().insert(value.as_ptr() as usize) {
        return;
    }
    let Some(loaded) = embedded::load_scalar(wrapping.text, node, wrapping.source, wrapping.limits) else {
        return;
    };
    let is_mapping = |root: &Option<yaml::Node>| root.as_ref().is_some_and(|r| r.as_mapping().is_some());
    if !named_yaml && (!loaded.diagnostics.is_empty() || !loaded.documents.iter().any(|d| is_mapping(&d.root))) {
        return;
    }
    diagnostics.extend(loaded.diagnostics);
    for root in loaded.documents.iter().filter_map(|d| d.root.as_ref()) {
        values_of(root, wrapping, out, diagnostics);
        flyte::extract(root, wrapping.source, out);
        templates::extract(root, wrapping, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Aliases of one anchored text are one text: it is read once, however
    /// many ConfigMaps repeat it.
    #[test]
    fn an_aliased_text_is_read_once() {
        let text = "kind: List\nitems:\n  - kind: ConfigMap\n    data:\n      config.yaml: &config |\n        operator:\n          clusterId: {name: c1}\n          clusterData: {metadataBucketPrefix: s3://b}\n  - {kind: ConfigMap, data: {config.yaml: *config}}\n  - {kind: ConfigMap, data: {config.yaml: *config}}\n";
        let source = SourceId(0);
        let limits = Limits::default();
        let loaded = yaml::load(text, source, limits);
        let root = loaded.documents[0].root.as_ref().expect("a document");
        let wrapping = Wrapping {
            text,
            source,
            limits,
            layer: false,
            texts_read: RefCell::default(),
        };
        let (mut out, mut diagnostics) = (Vec::new(), Vec::new());
        extract(root, &wrapping, &mut out, &mut diagnostics);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let clusters: Vec<&str> = out.iter().map(|proto| proto.key.as_ref()).collect();
        assert_eq!(clusters, ["c1"]);
        // At its place in the file, inside the block scalar.
        assert_eq!(out[0].location.span.start, text.find("c1}").expect("the name"));
    }
}
