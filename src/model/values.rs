//! The Union data-plane Helm values adapter: a values file (`global.CLUSTER_NAME`,
//! `global.METADATA_BUCKET`, `storage.bucketName`, `provider`, ...) describes
//! one cluster. Simple `{{ .Values.a.b }}` and `{{ tpl .Values.a.b . }}`
//! references are resolved, and a field keeps the span of the value that was
//! finally used. Empty strings (the chart's defaults) are unset, so a file
//! whose cluster name is empty describes no cluster.

use super::{Collection, Field, Proto, bucket_name};
use crate::diagnostic::Location;
use crate::source::SourceId;
use crate::yaml::{Node, Scalar};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Helm values files that together describe one cluster (`layers:` of
/// `.planelint.yaml`): where each file sits, by its canonical path.
#[derive(Debug, Default)]
pub struct Layering {
    /// (group, position in the group) of each layered file.
    places: BTreeMap<PathBuf, (usize, usize)>,
}

/// A file's place in a [`Layering`].
pub type Place = (usize, usize);

impl Layering {
    /// `groups`: each group's files in layering order (later wins).
    pub fn new(groups: &[Vec<PathBuf>]) -> Layering {
        let places = groups
            .iter()
            .enumerate()
            .flat_map(|(group, files)| {
                files
                    .iter()
                    .enumerate()
                    .map(move |(at, file)| (canonical(file), (group, at)))
            })
            .collect();
        Layering { places }
    }

    /// Where `path` is layered, if it is.
    pub fn place(&self, path: &Path) -> Option<Place> {
        if self.places.is_empty() {
            return None;
        }
        self.places.get(&canonical(path)).copied()
    }

    /// The cluster of each group, read from all of its files at once: the
    /// entities, and the index (in `files`) of the group's last, most
    /// specific file, where they belong. `files` holds, per file, its place,
    /// its tree (kept for the group) and its source.
    pub fn extract(&self, files: &[(Option<Place>, Option<&Node>, SourceId)]) -> Vec<(usize, Vec<Proto>)> {
        // Each group's members, as (position in the group, index in `files`).
        let mut groups: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (i, (place, _, _)) in files.iter().enumerate() {
            if let Some((group, at)) = place {
                groups.entry(*group).or_default().push((*at, i));
            }
        }
        let mut out = Vec::with_capacity(groups.len());
        for members in groups.values_mut() {
            members.sort_unstable();
            let layers: Vec<(&Node, SourceId)> = members
                .iter()
                .filter_map(|&(_, i)| files.get(i).and_then(|(_, root, source)| Some(((*root)?, *source))))
                .collect();
            let Some(&(_, last)) = members.last() else {
                continue;
            };
            let mut entities = Vec::new();
            extract(&layers, &mut entities);
            out.push((last, entities));
        }
        out
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// How many references deep a value may be resolved.
const MAX_RESOLUTION_DEPTH: usize = 8;

/// The cluster that values documents describe, if they are values files: one
/// document, or several layered (later wins).
pub fn extract(layers: &[(&Node, SourceId)], out: &mut Vec<Proto>) {
    let is_values = |root: &Node| root.get("global").and_then(|g| g.get("CLUSTER_NAME")).is_some();
    if !layers.iter().any(|(root, _)| is_values(root)) {
        return;
    }
    let values = Values { layers };
    // An empty name is the chart's own defaults: a values file, no cluster.
    let Some(name) = values.field(&["global", "CLUSTER_NAME"]) else {
        return;
    };
    let provider = values.field(&["provider"]);
    let mut fields: Vec<(&'static str, Field)> = vec![
        ("name", name.clone()),
        ("pool", Field::string("default", name.location)),
    ];
    let provider_name = provider
        .as_ref()
        .and_then(Field::as_str)
        .unwrap_or_default()
        .to_string();
    if let Some(provider) = provider {
        fields.push(("provider", provider));
    }
    let (account_keys, region_keys): (&[&str], &[&str]) = match provider_name.as_str() {
        "gcp" => (&["GOOGLE_PROJECT_ID", "AWS_ACCOUNT_ID"], &["GCP_REGION", "AWS_REGION"]),
        _ => (&["AWS_ACCOUNT_ID", "GOOGLE_PROJECT_ID"], &["AWS_REGION", "GCP_REGION"]),
    };
    let first = |keys: &[&str]| keys.iter().find_map(|key| values.field(&["global", key]));
    let optional: [(&'static str, Option<Field>); 7] = [
        ("organization", values.field(&["global", "ORG_NAME"])),
        ("account", first(account_keys)),
        ("region", first(region_keys)),
        ("backendIdentity", values.field(&["global", "BACKEND_IAM_ROLE_ARN"])),
        ("workerIdentity", values.field(&["global", "WORKER_IAM_ROLE_ARN"])),
        ("storageProvider", values.field(&["storage", "provider"])),
        (
            "fastRegistrationBucket",
            values
                .field(&["storage", "fastRegistrationBucketName"])
                .or_else(|| values.field(&["global", "FAST_REGISTRATION_BUCKET"])),
        ),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(name, field)| field.map(|f| (name, f))),
    );
    // The bucket the chart uses: an explicit prefix, else the storage bucket,
    // which defaults to METADATA_BUCKET.
    let metadata = values
        .field(&["config", "operator", "clusterData", "metadataBucketPrefix"])
        .or_else(|| values.field(&["storage", "bucketName"]))
        .or_else(|| values.field(&["global", "METADATA_BUCKET"]));
    if let Some(uri) = metadata {
        let text = uri.as_str().unwrap_or_default();
        fields.push(("metadataBucket", Field::string(bucket_name(text), uri.location)));
        fields.push(("metadataBucketUri", uri));
    }
    if let Some(bucket) = fields
        .iter()
        .find(|(n, _)| *n == "fastRegistrationBucket")
        .map(|(_, f)| f.clone())
    {
        let text = bucket.as_str().unwrap_or_default();
        fields.retain(|(n, _)| *n != "fastRegistrationBucket");
        fields.push((
            "fastRegistrationBucket",
            Field::string(bucket_name(text), bucket.location),
        ));
    }
    fields.push(("source", Field::string("values", name.location)));
    out.push(Proto {
        collection: Collection::Clusters,
        key: Arc::from(name.as_str().unwrap_or_default()),
        location: name.location,
        fields,
    });
}

/// Values files in layering order.
struct Values<'a> {
    layers: &'a [(&'a Node, SourceId)],
}

impl Values<'_> {
    /// The value at `path` in the last layer that sets it (maps merge key by
    /// key; anything else replaces), and its file.
    fn node(&self, path: &[&str]) -> Option<(&Node, SourceId)> {
        self.layers.iter().rev().find_map(|(root, source)| {
            path.iter()
                .try_fold(*root, |node, key| node.get(key))
                .map(|n| (n, *source))
        })
    }

    /// The non-empty string at `path`, references resolved, located at the
    /// value that was finally used.
    fn field(&self, path: &[&str]) -> Option<Field> {
        let (node, source) = self.node(path)?;
        self.resolve(node, source, 0)
    }

    fn resolve(&self, node: &Node, source: SourceId, depth: usize) -> Option<Field> {
        let text = match node.scalar()? {
            Scalar::String(s) => s.to_string(),
            Scalar::Int(i) => i.to_string(),
            _ => return None,
        };
        let location = Location {
            source,
            span: node.span,
        };
        if !text.contains("{{") {
            return (!text.trim().is_empty()).then(|| Field::string(text.trim(), location));
        }
        if depth >= MAX_RESOLUTION_DEPTH {
            return None;
        }
        // Substitute every reference; anything else in braces is a template
        // planelint does not evaluate, and the value stays unknown.
        let mut resolved = String::new();
        let mut used: Option<Location> = None;
        let mut rest = text.as_str();
        while let Some(open) = rest.find("{{") {
            resolved.push_str(rest.get(..open)?);
            let after = rest.get(open + 2..)?;
            let close = after.find("}}")?;
            let path = reference(after.get(..close)?)?;
            let (target, target_source) = self.node(&path)?;
            let value = self.resolve(target, target_source, depth + 1)?;
            resolved.push_str(value.as_str()?);
            used = Some(value.location);
            rest = after.get(close + 2..)?;
        }
        resolved.push_str(rest);
        let resolved = resolved.trim();
        (!resolved.is_empty()).then(|| Field::string(resolved, used.unwrap_or(location)))
    }
}

/// The path of `.Values.a.b` in `.Values.a.b` or `tpl .Values.a.b .`.
fn reference(expression: &str) -> Option<Vec<&str>> {
    let words: Vec<&str> = expression.trim().trim_matches('-').split_whitespace().collect();
    let path = match words.as_slice() {
        [path] => *path,
        ["tpl", path, "."] => *path,
        _ => return None,
    };
    let path = path.strip_prefix(".Values.")?;
    let segments: Vec<&str> = path.split('.').collect();
    segments.iter().all(|s| !s.is_empty()).then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::{Layering, reference};
    use crate::source::SourceId;
    use crate::yaml;
    use std::path::{Path, PathBuf};

    #[test]
    fn a_layer_group_is_read_in_its_own_order_and_belongs_to_its_last_file() {
        let layering = Layering::new(&[vec![PathBuf::from("base.yaml"), PathBuf::from("prod.yaml")]]);
        let tree = |text: &str, id: u32| {
            yaml::load(text, SourceId(id), yaml::Limits::default())
                .documents
                .remove(0)
                .root
                .unwrap()
        };
        let prod = tree("global: {CLUSTER_NAME: eks-prod, AWS_REGION: us-west-2}\n", 0);
        let base = tree("global: {CLUSTER_NAME: '', AWS_REGION: us-east-1}\nprovider: aws\n", 1);
        let other = tree("global: {CLUSTER_NAME: alone}\n", 2);
        assert_eq!(layering.place(Path::new("other.yaml")), None);
        // Found in the other order: the most specific file first.
        let files = [
            (layering.place(Path::new("prod.yaml")), Some(&prod), SourceId(0)),
            (layering.place(Path::new("base.yaml")), Some(&base), SourceId(1)),
            (None, Some(&other), SourceId(2)),
        ];
        let extracted = layering.extract(&files);
        assert_eq!(extracted.len(), 1);
        let (owner, clusters) = &extracted[0];
        assert_eq!((*owner, clusters.len()), (0, 1));
        let field = |name: &str| {
            let (_, field) = clusters[0].fields.iter().find(|(n, _)| *n == name).unwrap();
            (field.as_str().unwrap().to_string(), field.location.source)
        };
        assert_eq!(field("name"), ("eks-prod".to_string(), SourceId(0)));
        assert_eq!(field("region"), ("us-west-2".to_string(), SourceId(0)));
        assert_eq!(field("provider"), ("aws".to_string(), SourceId(1)));
    }

    #[test]
    fn references_are_simple_values_paths() {
        assert_eq!(
            reference(" .Values.global.AWS_REGION "),
            Some(vec!["global", "AWS_REGION"])
        );
        assert_eq!(
            reference(" tpl .Values.storage.bucketName . "),
            Some(vec!["storage", "bucketName"])
        );
        assert_eq!(reference(" include \"x\" . "), None);
        assert_eq!(reference(" .Release.Name "), None);
    }
}
