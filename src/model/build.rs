//! Folds the manifests of all loaded files into one model per organization:
//! the nearest `DataPlane` in the same or an ancestor directory owns the
//! pools and clusters below it; the rest share one model without a DataPlane.

use super::manifest::{self, Kind, Manifest};
use super::{COLLECTIONS, Entity, Field, Model, Value, bucket_name};
use super::{Proto, flyte, values};
use crate::diagnostic::{CLUSTER_FIELD_CONFLICT, Diagnostic, INPUT_LIMIT, Location, MANIFEST_SCHEMA};
use crate::source::SourceId;
use crate::yaml::Document;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The most isolation units (domain/project pairs) one DataPlane may make.
pub const MAX_UNITS: usize = 100_000;

/// A file after loading, as the model builder needs it.
pub struct LoadedFile {
    pub source: SourceId,
    /// The path relative to the scanned root, with `/` separators: it orders
    /// entities and places documents under their `DataPlane`.
    pub root_relative: String,
    pub extracted: Extracted,
}

/// What one file contributes to the model.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Its planelint manifests.
    pub manifests: Vec<Manifest>,
    /// The entities adapters read from its other documents.
    pub entities: Vec<Proto>,
}

/// Reads one file's documents: planelint manifests strictly, the rest
/// through the adapters (Helm values only when `values` is set: a layered
/// values file is read with its group). Runs per file, in parallel.
pub fn extract(source: SourceId, documents: &[Document], values: bool, diagnostics: &mut Vec<Diagnostic>) -> Extracted {
    let mut extracted = Extracted::default();
    for root in documents.iter().filter_map(|d| d.root.as_ref()) {
        let planelint = root
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.starts_with("planelint/"));
        if planelint {
            extracted.manifests.extend(manifest::read(root, source, diagnostics));
        } else {
            if values {
                values::extract(&[(root, source)], &mut extracted.entities);
            }
            flyte::extract(root, source, &mut extracted.entities);
        }
    }
    extracted
}

/// The cluster that several Helm values files describe together, in
/// layering order: later files win, maps merge, lists replace.
pub fn extract_layered(layers: &[(&crate::yaml::Node, SourceId)]) -> Vec<Proto> {
    let mut entities = Vec::new();
    values::extract(layers, &mut entities);
    entities
}

/// The collections the models built from `files` can have: those their
/// manifests and adapters make. Known before the models are built, so that
/// the policies that can use them compile meanwhile.
pub fn collections_made(files: &[LoadedFile]) -> BTreeSet<&'static str> {
    let mut made = BTreeSet::new();
    for file in files {
        for manifest in &file.extracted.manifests {
            made.extend(match manifest.kind {
                Kind::DataPlane => &["dataPlanes", "domains", "projects", "units", "placements"][..],
                Kind::ClusterPool => &["pools"],
                Kind::Cluster => &["clusters"],
            });
        }
        made.extend(file.extracted.entities.iter().map(|proto| proto.collection));
    }
    made
}

pub fn build(files: &[LoadedFile], diagnostics: &mut Vec<Diagnostic>) -> Vec<Model> {
    let mut ordered: Vec<&LoadedFile> = files.iter().collect();
    ordered.sort_by(|a, b| a.root_relative.as_bytes().cmp(b.root_relative.as_bytes()));

    let mut manifests: Vec<(&str, &Manifest)> = Vec::new();
    let mut protos: Vec<(&str, &Proto)> = Vec::new();
    for file in ordered {
        let dir = file.root_relative.rsplit_once('/').map_or("", |(dir, _)| dir);
        manifests.extend(file.extracted.manifests.iter().map(|manifest| (dir, manifest)));
        protos.extend(file.extracted.entities.iter().map(|proto| (dir, proto)));
    }

    // The first DataPlane of a directory owns it; a second one is an error.
    let mut owners: BTreeMap<&str, &Manifest> = BTreeMap::new();
    for &(dir, manifest) in manifests.iter().filter(|(_, m)| m.kind == Kind::DataPlane) {
        match owners.get(dir) {
            Some(first) => diagnostics.push(
                Diagnostic::error(
                    MANIFEST_SCHEMA,
                    format!(
                        "a second DataPlane `{}` in one directory; the DataPlane `{}` already owns it",
                        manifest.name.as_str().unwrap_or_default(),
                        first.name.as_str().unwrap_or_default()
                    ),
                    manifest.name.location,
                )
                .with_related(first.name.location, "the DataPlane that owns this directory")
                .with_help("give each organization its own directory"),
            ),
            None => {
                owners.insert(dir, manifest);
            }
        }
    }

    let mut models: BTreeMap<Option<&str>, ModelBuilder> = BTreeMap::new();
    for &(dir, manifest) in &manifests {
        let owner = nearest_owner(dir, &owners);
        let builder = models.entry(owner).or_default();
        match manifest.kind {
            Kind::DataPlane => {
                if owners.get(dir).is_some_and(|m| std::ptr::eq(*m, manifest)) {
                    builder.data_plane(manifest, diagnostics);
                }
            }
            Kind::ClusterPool => builder.pool(manifest),
            Kind::Cluster => builder.cluster(manifest),
        }
    }
    for (dir, proto) in protos {
        let builder = models.entry(nearest_owner(dir, &owners)).or_default();
        if proto.collection == "clusters" && builder.merge_into_manifest(proto, diagnostics) {
            continue;
        }
        builder.add(
            proto.collection,
            proto.key.clone(),
            proto.location,
            proto.fields.clone(),
        );
    }
    models.into_values().map(ModelBuilder::finish).collect()
}

/// The directory of the nearest DataPlane at or above `dir`.
fn nearest_owner<'a>(dir: &str, owners: &BTreeMap<&'a str, &Manifest>) -> Option<&'a str> {
    let mut current = dir;
    loop {
        if let Some((owner, _)) = owners.get_key_value(current) {
            return Some(owner);
        }
        if current.is_empty() {
            return None;
        }
        current = current.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

#[derive(Default)]
struct ModelBuilder {
    name: Option<Arc<str>>,
    entities: BTreeMap<&'static str, Vec<Entity>>,
    occurrences: FxHashMap<(&'static str, Arc<str>), usize>,
    order: usize,
}

fn spec_field<'m>(manifest: &'m Manifest, name: &str) -> Option<&'m Field> {
    manifest.spec.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
}

fn list_items(field: Option<&Field>) -> &[Field] {
    match field.map(|f| &f.value) {
        Some(Value::List(items)) => items,
        _ => &[],
    }
}

impl ModelBuilder {
    fn add(
        &mut self,
        collection: &'static str,
        key: Arc<str>,
        location: Location,
        mut fields: Vec<(&'static str, Field)>,
    ) {
        fields.sort_by(|a, b| a.0.cmp(b.0));
        fields.dedup_by(|a, b| a.0 == b.0);
        let occurrence = self.occurrences.entry((collection, key.clone())).or_insert(0);
        *occurrence += 1;
        let entity = Entity {
            collection,
            key,
            occurrence: *occurrence,
            order: self.order,
            location,
            fields,
        };
        self.order += 1;
        self.entities.entry(collection).or_default().push(entity);
    }

    fn data_plane(&mut self, manifest: &Manifest, diagnostics: &mut Vec<Diagnostic>) {
        let name = manifest.name.as_str().unwrap_or_default();
        self.name = Some(Arc::from(name));
        let isolation = spec_field(manifest, "isolation")
            .and_then(Field::as_str)
            .unwrap_or("domain");
        let mut fields = manifest.spec.clone();
        fields.retain(|(n, _)| !matches!(*n, "domains" | "projects" | "placements"));
        fields.push(("name", manifest.name.clone()));
        if spec_field(manifest, "isolation").is_none() {
            fields.push(("isolation", Field::string(isolation, manifest.name.location)));
        }
        self.add("dataPlanes", Arc::from(name), manifest.name.location, fields);

        // Project isolation makes a unit per domain and project: a short file
        // must not make a model of billions of units. Over the limit, the
        // isolation table is left out whole (a partial one would only give
        // wrong findings).
        let domains = list_items(spec_field(manifest, "domains")).len();
        let projects = list_items(spec_field(manifest, "projects")).len();
        if isolation == "project" && domains.saturating_mul(projects) > MAX_UNITS {
            let location = spec_field(manifest, "projects").map_or(manifest.name.location, |f| f.location);
            diagnostics.push(Diagnostic::error(
                INPUT_LIMIT,
                format!(
                    "{domains} domains and {projects} projects make more than {MAX_UNITS} isolation units; the isolation table was not checked"
                ),
                location,
            ));
            return;
        }
        let mut production: HashMap<&str, Field> = HashMap::new();
        for domain in list_items(spec_field(manifest, "domains")) {
            let (Some(name), Some(name_field)) =
                (domain.at_path("name").and_then(Field::as_str), domain.at_path("name"))
            else {
                continue;
            };
            let is_production = domain.at_path("production").cloned().unwrap_or(Field {
                value: Value::Bool(false),
                location: name_field.location,
            });
            production.insert(name, is_production.clone());
            let fields = vec![("name", name_field.clone()), ("production", is_production)];
            self.add("domains", Arc::from(name), name_field.location, fields);
        }
        let projects = list_items(spec_field(manifest, "projects"));
        for project in projects {
            let name = project.as_str().unwrap_or_default();
            self.add(
                "projects",
                Arc::from(name),
                project.location,
                vec![("name", project.clone())],
            );
        }
        for domain in list_items(spec_field(manifest, "domains")) {
            let Some(domain_field) = domain.at_path("name") else {
                continue;
            };
            let domain_name = domain_field.as_str().unwrap_or_default();
            let Some(is_production) = production.get(domain_name) else {
                continue;
            };
            let base = vec![("domain", domain_field.clone()), ("production", is_production.clone())];
            if isolation == "project" {
                for project in projects {
                    let key = format!("{domain_name}/{}", project.as_str().unwrap_or_default());
                    let mut fields = Vec::with_capacity(base.len() + 2);
                    fields.extend(base.iter().cloned());
                    fields.push(("project", project.clone()));
                    fields.push(("key", Field::string(&key, project.location)));
                    self.add("units", Arc::from(key.as_str()), project.location, fields);
                }
            } else {
                let mut fields = base;
                fields.push(("key", Field::string(domain_name, domain_field.location)));
                self.add("units", Arc::from(domain_name), domain_field.location, fields);
            }
        }
        for placement in list_items(spec_field(manifest, "placements")) {
            let Value::Map(entries) = &placement.value else {
                continue;
            };
            let domain = placement.at_path("domain").and_then(Field::as_str).unwrap_or_default();
            // Under domain isolation the unit is the domain: a project there
            // is a shape error of its own, not another unit.
            let unit = match placement.at_path("project").and_then(Field::as_str) {
                Some(project) if isolation == "project" => format!("{domain}/{project}"),
                _ => domain.to_string(),
            };
            // Room for the two fields added below: no regrowth per placement.
            let mut fields: Vec<(&'static str, Field)> = Vec::with_capacity(entries.len() + 2);
            fields.extend(
                entries
                    .iter()
                    .filter_map(|(name, field)| manifest::intern(name).map(|name| (name, field.clone()))),
            );
            fields.push(("unit", Field::string(&unit, placement.location)));
            if let Some(is_production) = production.get(domain) {
                fields.push(("production", is_production.clone()));
            }
            self.add("placements", Arc::from(unit.as_str()), placement.location, fields);
        }
    }

    fn pool(&mut self, manifest: &Manifest) {
        let mut fields = normalized_spec(manifest);
        fields.push(("name", manifest.name.clone()));
        let name = manifest.name.as_str().unwrap_or_default();
        self.add("pools", Arc::from(name), manifest.name.location, fields);
    }

    fn cluster(&mut self, manifest: &Manifest) {
        let mut fields = normalized_spec(manifest);
        fields.push(("name", manifest.name.clone()));
        if spec_field(manifest, "pool").is_none() {
            fields.push(("pool", Field::string("default", manifest.name.location)));
        }
        let name = manifest.name.as_str().unwrap_or_default();
        self.add("clusters", Arc::from(name), manifest.name.location, fields);
    }

    /// Folds a cluster read from a values file into the `Cluster` manifest of
    /// the same name, if there is one: the manifest gives the pool, the values
    /// file the fields the manifest leaves out, and a field both give with
    /// different values is a finding on both. `false` when there is no manifest.
    fn merge_into_manifest(&mut self, proto: &Proto, diagnostics: &mut Vec<Diagnostic>) -> bool {
        let Some(cluster) = self.entities.get_mut("clusters").and_then(|clusters| {
            clusters
                .iter_mut()
                .find(|c| c.key == proto.key && c.field("source").is_none())
        }) else {
            return false;
        };
        for (name, field) in &proto.fields {
            if matches!(*name, "name" | "pool" | "source") {
                continue;
            }
            // Bucket URIs may differ in form for one bucket: buckets compare by name.
            let compared = *name != "metadataBucketUri";
            match cluster.fields.iter().find(|(n, _)| n == name) {
                Some((_, own)) if compared && own.value != field.value => diagnostics.push(
                    Diagnostic::error(
                        CLUSTER_FIELD_CONFLICT,
                        format!(
                            "cluster {}: the values file sets `{name}` to {}, but its Cluster manifest says {}",
                            proto.key,
                            describe(field),
                            describe(own)
                        ),
                        field.location,
                    )
                    .with_related(own.location, format!("`{name}` in the Cluster manifest")),
                ),
                Some(_) => {}
                None => cluster.fields.push((name, field.clone())),
            }
        }
        cluster.fields.sort_by(|a, b| a.0.cmp(b.0));
        true
    }

    /// A cluster is production when a unit it serves (`units`) is; it is
    /// non-production when it serves units and none is. Unknown otherwise.
    fn derive_cluster_production(&mut self) {
        let production: FxHashMap<Arc<str>, bool> = self
            .entities
            .get("units")
            .into_iter()
            .flatten()
            .map(|u| {
                (
                    u.key.clone(),
                    matches!(u.field("production").map(|f| &f.value), Some(Value::Bool(true))),
                )
            })
            .collect();
        if production.is_empty() {
            return;
        }
        for cluster in self.entities.get_mut("clusters").into_iter().flatten() {
            let Some(units) = cluster.field("units").cloned() else {
                continue;
            };
            let Value::List(items) = &units.value else { continue };
            let known: Vec<bool> = items
                .iter()
                .filter_map(|u| u.as_str().and_then(|u| production.get(u)).copied())
                .collect();
            if known.is_empty() {
                continue;
            }
            let value = Value::Bool(known.iter().any(|p| *p));
            cluster.fields.push((
                "production",
                Field {
                    value,
                    location: units.location,
                },
            ));
            cluster.fields.sort_by(|a, b| a.0.cmp(b.0));
        }
    }

    fn finish(mut self) -> Model {
        self.derive_cluster_production();
        let collections = COLLECTIONS
            .iter()
            .map(|&name| {
                let entities = self.entities.remove(name).unwrap_or_default();
                (name, entities.into_iter().map(Arc::new).collect())
            })
            .collect();
        Model {
            name: self.name,
            collections,
        }
    }
}

fn describe(field: &Field) -> String {
    match &field.value {
        Value::String(s) => format!("`{s}`"),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::List(_) | Value::Map(_) => "a different value".to_string(),
    }
}

/// The spec's fields, with bucket URIs reduced to bucket names.
fn normalized_spec(manifest: &Manifest) -> Vec<(&'static str, Field)> {
    manifest
        .spec
        .iter()
        .flat_map(|(name, field)| match (*name, field.as_str()) {
            ("metadataBucket", Some(uri)) => vec![
                (*name, Field::string(bucket_name(uri), field.location)),
                ("metadataBucketUri", field.clone()),
            ],
            _ => vec![(*name, field.clone())],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use std::path::Path;

    /// Every YAML file below `dir`, in a stable order.
    fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).expect("fixture directory").flatten().collect();
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if crate::discover::is_yaml(&path) {
                out.push(path);
            }
        }
    }

    /// The policies compile before the model is built, for the collections
    /// `collections_made` announces: it must announce every collection a
    /// model then has, or a policy would silently not run.
    #[test]
    fn collections_made_announces_every_collection_the_models_have() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut repos = vec![
            fixtures.join("seed-table"),
            fixtures.join("mixed-values"),
            fixtures.join("valid"),
        ];
        for rule in std::fs::read_dir(fixtures.join("rules"))
            .expect("rules fixtures")
            .flatten()
        {
            repos.push(rule.path().join("fires"));
        }
        let mut seen = BTreeSet::new();
        for repo in repos {
            let mut paths = Vec::new();
            yaml_files(&repo, &mut paths);
            let mut diagnostics = Vec::new();
            let files: Vec<LoadedFile> = paths
                .iter()
                .enumerate()
                .map(|(i, path)| {
                    let source = SourceId(u32::try_from(i).expect("few files"));
                    let text = std::fs::read_to_string(path).expect("fixture text");
                    let loaded = yaml::load(&text, source, yaml::Limits::default());
                    LoadedFile {
                        source,
                        root_relative: path.strip_prefix(&repo).expect("below").to_string_lossy().into_owned(),
                        extracted: extract(source, &loaded.documents, true, &mut diagnostics),
                    }
                })
                .collect();
            let made = collections_made(&files);
            for model in build(&files, &mut diagnostics) {
                for (name, entities) in &model.collections {
                    if !entities.is_empty() {
                        assert!(made.contains(name), "{}: `{name}` was not announced", repo.display());
                        seen.insert(*name);
                    }
                }
            }
        }
        // The fixtures make every collection, so the test covers them all.
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), COLLECTIONS);
    }
}
