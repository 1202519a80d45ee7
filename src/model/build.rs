//! Folds the manifests of all loaded files into one model per organization:
//! the nearest `DataPlane` in the same or an ancestor directory owns the
//! pools and clusters below it; the rest share one model without a DataPlane.

use super::manifest::{self, Kind, Manifest};
use super::{COLLECTIONS, Entity, Field, Model, Value, bucket_name};
use crate::diagnostic::{Diagnostic, INPUT_LIMIT, Location, MANIFEST_SCHEMA};
use crate::source::SourceId;
use crate::yaml::Document;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The most isolation units (domain/project pairs) one DataPlane may make.
pub const MAX_UNITS: usize = 100_000;

/// A file after loading, as the model builder needs it.
pub struct LoadedFile {
    pub source: SourceId,
    /// The path relative to the scanned root, with `/` separators: it orders
    /// entities and places documents under their `DataPlane`.
    pub root_relative: String,
    pub documents: Vec<Document>,
}

pub fn build(files: &[LoadedFile], diagnostics: &mut Vec<Diagnostic>) -> Vec<Model> {
    let mut ordered: Vec<&LoadedFile> = files.iter().collect();
    ordered.sort_by(|a, b| a.root_relative.as_bytes().cmp(b.root_relative.as_bytes()));

    let mut manifests: Vec<(String, Manifest)> = Vec::new();
    for file in ordered {
        let dir = match file.root_relative.rsplit_once('/') {
            Some((dir, _)) => dir.to_string(),
            None => String::new(),
        };
        for document in &file.documents {
            if let Some(manifest) = document
                .root
                .as_ref()
                .and_then(|root| manifest::read(root, file.source, diagnostics))
            {
                manifests.push((dir.clone(), manifest));
            }
        }
    }

    // The first DataPlane of a directory owns it; a second one is an error.
    let mut owners: BTreeMap<&str, &Manifest> = BTreeMap::new();
    for (dir, manifest) in manifests.iter().filter(|(_, m)| m.kind == Kind::DataPlane) {
        match owners.get(dir.as_str()) {
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
    for (dir, manifest) in &manifests {
        let owner = nearest_owner(dir, &owners);
        let builder = models.entry(owner).or_default();
        match manifest.kind {
            Kind::DataPlane => {
                if owners.get(dir.as_str()).is_some_and(|m| std::ptr::eq(*m, manifest)) {
                    builder.data_plane(manifest, diagnostics);
                }
            }
            Kind::ClusterPool => builder.pool(manifest),
            Kind::Cluster => builder.cluster(manifest),
        }
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
    occurrences: HashMap<(&'static str, Arc<str>), usize>,
    order: usize,
}

fn spec_field<'m>(manifest: &'m Manifest, name: &str) -> Option<&'m Field> {
    manifest.spec.iter().find(|(n, _)| n.as_ref() == name).map(|(_, f)| f)
}

fn list_items(field: Option<&Field>) -> &[Field] {
    match field.map(|f| &f.value) {
        Some(Value::List(items)) => items,
        _ => &[],
    }
}

impl ModelBuilder {
    fn add(&mut self, collection: &'static str, key: Arc<str>, location: Location, mut fields: Vec<(Arc<str>, Field)>) {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
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
        fields.retain(|(n, _)| !matches!(n.as_ref(), "domains" | "projects" | "placements"));
        fields.push(("name".into(), manifest.name.clone()));
        if spec_field(manifest, "isolation").is_none() {
            fields.push(("isolation".into(), Field::string(isolation, manifest.name.location)));
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
            let fields = vec![
                ("name".into(), name_field.clone()),
                ("production".into(), is_production),
            ];
            self.add("domains", Arc::from(name), name_field.location, fields);
        }
        let projects = list_items(spec_field(manifest, "projects"));
        for project in projects {
            let name = project.as_str().unwrap_or_default();
            self.add(
                "projects",
                Arc::from(name),
                project.location,
                vec![("name".into(), project.clone())],
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
            let base = vec![
                ("domain".into(), domain_field.clone()),
                ("production".into(), is_production.clone()),
            ];
            if isolation == "project" {
                for project in projects {
                    let key = format!("{domain_name}/{}", project.as_str().unwrap_or_default());
                    let mut fields = base.clone();
                    fields.push(("project".into(), project.clone()));
                    fields.push(("key".into(), Field::string(&key, project.location)));
                    self.add("units", Arc::from(key.as_str()), project.location, fields);
                }
            } else {
                let mut fields = base;
                fields.push(("key".into(), Field::string(domain_name, domain_field.location)));
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
            let mut fields = entries.clone();
            fields.push(("unit".into(), Field::string(&unit, placement.location)));
            if let Some(is_production) = production.get(domain) {
                fields.push(("production".into(), is_production.clone()));
            }
            self.add("placements", Arc::from(unit.as_str()), placement.location, fields);
        }
    }

    fn pool(&mut self, manifest: &Manifest) {
        let mut fields = normalized_spec(manifest);
        fields.push(("name".into(), manifest.name.clone()));
        let name = manifest.name.as_str().unwrap_or_default();
        self.add("pools", Arc::from(name), manifest.name.location, fields);
    }

    fn cluster(&mut self, manifest: &Manifest) {
        let mut fields = normalized_spec(manifest);
        fields.push(("name".into(), manifest.name.clone()));
        if spec_field(manifest, "pool").is_none() {
            fields.push(("pool".into(), Field::string("default", manifest.name.location)));
        }
        let name = manifest.name.as_str().unwrap_or_default();
        self.add("clusters", Arc::from(name), manifest.name.location, fields);
    }

    fn finish(mut self) -> Model {
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

/// The spec's fields, with bucket URIs reduced to bucket names.
fn normalized_spec(manifest: &Manifest) -> Vec<(Arc<str>, Field)> {
    manifest
        .spec
        .iter()
        .map(|(name, field)| match (name.as_ref(), field.as_str()) {
            ("metadataBucket", Some(uri)) => (name.clone(), Field::string(bucket_name(uri), field.location)),
            _ => (name.clone(), field.clone()),
        })
        .collect()
}
