//! Folds the manifests of all loaded files into one model per organization:
//! the nearest `DataPlane` in the same or an ancestor directory owns the
//! pools and clusters below it; the rest share one model without a DataPlane.

use super::manifest::{self, Kind, Manifest};
use super::{Collection, Entity, Field, Model, Value, bucket_name};
use super::{Proto, Unread, Wrapping, flyte, pools, templates, values, wrapped};
use crate::diagnostic::{CLUSTER_FIELD_CONFLICT, Diagnostic, INPUT_LIMIT, Location, MANIFEST_SCHEMA};
use crate::source::SourceId;
use crate::yaml::Document;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The most isolation units (domain/project pairs) one DataPlane may make
/// by default (`--max-units`): ten times the projects of the largest
/// organization the benchmarks model, in three domains.
pub const MAX_UNITS: usize = 1_000_000;

/// A file after loading, as the model builder needs it.
pub struct LoadedFile {
    /// Ids are given in the order of `root_relative`: the model is in the
    /// order of the files' paths.
    pub source: SourceId,
    /// The path relative to the scanned root, with `/` separators: it orders
    /// entities and places documents under their `DataPlane`.
    pub root_relative: String,
    pub extracted: Extracted,
}

/// What one file contributes to the model.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Its planelint manifests, with the entities each makes.
    pub manifests: Vec<Prepared>,
    /// The entities adapters read from its other documents.
    pub entities: Vec<Proto>,
    /// Its `kind: Policy` documents: outside the policy directories, they
    /// are not loaded, and the run says so.
    pub policies_not_loaded: usize,
    /// Its documents that a reader recognized.
    pub documents_read: usize,
    /// Its documents that no reader recognized.
    pub unread: Vec<Unread>,
}

/// A manifest turned into the entities it makes, on the loading threads:
/// the model builder, which runs on one thread, only moves their lists.
#[derive(Debug)]
pub struct Prepared {
    kind: Kind,
    name: Field,
    /// By collection, each list in model order, every entity with its place
    /// in the model; occurrences are set by the model builder.
    entities: Vec<(Collection, Vec<Arc<Entity>>)>,
    /// Findings on the entities made, reported only when the manifest is
    /// used (a second DataPlane of a directory is not).
    problems: Vec<Diagnostic>,
}

/// Reads one file's documents: planelint manifests strictly, the rest
/// through the adapters (Helm values only when `layer` is not set: a layered
/// values file is read with its group, and keeps its first document for
/// that). Runs per file, in parallel. A manifest's YAML tree is dropped as
/// soon as the manifest is read, before its entities are made: a large
/// DataPlane's tree and its entities never live together.
pub fn extract(
    wrapping: &Wrapping<'_>,
    documents: Vec<Document>,
    max_units: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Extracted, Option<crate::yaml::Node>) {
    let (source, layer) = (wrapping.source, wrapping.layer);
    let mut extracted = Extracted::default();
    let mut layer_root = None;
    // Files are ordered by their ids (the loader gives them in path order),
    // then entities by their position in the file.
    let mut next_order = u64::from(source.0) << 32;
    for root in documents.into_iter().filter_map(|d| d.root) {
        let planelint = root
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.starts_with("planelint/"));
        let policy = root.get("kind").and_then(|k| k.as_str()) == Some("Policy");
        let manifest = if planelint && policy {
            // Read by the policy loader from the policy directories only.
            extracted.policies_not_loaded += 1;
            None
        } else if planelint {
            extracted.documents_read += 1;
            manifest::read(&root, source, diagnostics)
        } else {
            // Settings alone do not make a document read: a literal token
            // is found in any file.
            values::settings(&root, source, &mut extracted.entities);
            let before = extracted.entities.len();
            if !layer {
                values::extract(&[(&root, source)], &mut extracted.entities, diagnostics);
            }
            flyte::extract(&root, source, &mut extracted.entities);
            templates::extract(&root, wrapping, &mut extracted.entities);
            pools::extract(&root, source, &mut extracted.entities);
            wrapped::extract(&root, wrapping, &mut extracted.entities, diagnostics);
            // A values file of the chart's defaults describes no cluster,
            // but it was read; a layered file is read with its group.
            if extracted.entities.len() > before || layer || values::is_values(&root) {
                extracted.documents_read += 1;
            } else {
                extracted.unread.push(Unread::of(&root, source));
            }
            None
        };
        if layer && layer_root.is_none() {
            layer_root = Some(root);
        } else {
            drop(root);
        }
        if let Some(manifest) = manifest {
            extracted.manifests.push(prepare(manifest, max_units, &mut next_order));
        }
    }
    extracted.manifests.shrink_to_fit();
    extracted.entities.shrink_to_fit();
    (extracted, layer_root)
}

/// The collections each kind of manifest makes.
const DATA_PLANE_MAKES: &[Collection] = &[
    Collection::DataPlanes,
    Collection::Domains,
    Collection::Projects,
    Collection::Units,
    Collection::Placements,
];
const CLUSTER_POOL_MAKES: &[Collection] = &[Collection::Pools];
const CLUSTER_MAKES: &[Collection] = &[Collection::Clusters];

/// The collections the models built from `files` can have: those their
/// manifests and adapters make, even empty. A built-in policy over another
/// collection cannot fire, and is not compiled.
pub fn collections_made(files: &[LoadedFile]) -> BTreeSet<Collection> {
    let mut made = BTreeSet::new();
    for file in files {
        for manifest in &file.extracted.manifests {
            made.extend(match manifest.kind {
                Kind::DataPlane => DATA_PLANE_MAKES,
                Kind::ClusterPool => CLUSTER_POOL_MAKES,
                Kind::Cluster => CLUSTER_MAKES,
            });
        }
        made.extend(file.extracted.entities.iter().map(|proto| proto.collection));
    }
    made
}

pub fn build(mut files: Vec<LoadedFile>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Model> {
    // Ids follow the paths (the loader gives them so): entities were placed
    // in the model by them.
    files.sort_by_key(|file| file.source);

    // The first DataPlane of a directory owns it; a second one is an error.
    let mut owners: BTreeMap<String, Field> = BTreeMap::new();
    for file in &files {
        for manifest in file.extracted.manifests.iter().filter(|m| m.kind == Kind::DataPlane) {
            match owners.get(dir_of(&file.root_relative)) {
                Some(first) => diagnostics.push(
                    Diagnostic::error(
                        MANIFEST_SCHEMA,
                        format!(
                            "a second DataPlane `{}` in one directory; the DataPlane `{}` already owns it",
                            manifest.name.as_str().unwrap_or_default(),
                            first.as_str().unwrap_or_default()
                        ),
                        manifest.name.location,
                    )
                    .with_related(first.location, "the DataPlane that owns this directory")
                    .with_help("give each organization its own directory"),
                ),
                None => {
                    owners.insert(dir_of(&file.root_relative).to_string(), manifest.name.clone());
                }
            }
        }
    }

    let mut models: BTreeMap<Option<String>, ModelBuilder> = BTreeMap::new();
    let mut protos: Vec<(Option<String>, Proto)> = Vec::new();
    // The files of a directory are consecutive (in path order): its owner is
    // looked for once. No directory's name holds a NUL.
    let (mut owned_dir, mut owner) = ("\0".to_string(), None);
    for file in files {
        let LoadedFile {
            root_relative,
            extracted,
            ..
        } = file;
        let dir = dir_of(&root_relative);
        if owned_dir != dir {
            dir.clone_into(&mut owned_dir);
            owner = nearest_owner(dir, &owners);
        }
        let manifests = extracted.manifests;
        if !manifests.is_empty() {
            let builder = models.entry(owner.clone()).or_insert_with(ModelBuilder::new);
            for manifest in manifests {
                // Only the DataPlane that owns its directory makes entities.
                if manifest.kind == Kind::DataPlane {
                    if owners
                        .get(dir)
                        .is_none_or(|first| first.location != manifest.name.location)
                    {
                        continue;
                    }
                    builder.name = Some(Arc::from(manifest.name.as_str().unwrap_or_default()));
                }
                diagnostics.extend(manifest.problems);
                for (collection, mut entities) in manifest.entities {
                    builder.entities.entry(collection).or_default().append(&mut entities);
                }
            }
        }
        protos.extend(extracted.entities.into_iter().map(|proto| (owner.clone(), proto)));
    }
    split_organizations(&mut protos, models.get(&None));
    // Pool-file memberships join the clusters once every cluster is in place.
    let (memberships, protos): (Vec<_>, Vec<_>) = protos.into_iter().partition(|(_, proto)| is_membership(proto));
    for (owner, proto) in protos {
        let organization: Option<Arc<str>> = owner.as_deref().and_then(|o| o.strip_prefix('\0')).map(Arc::from);
        let builder = models.entry(owner).or_insert_with(|| {
            let mut builder = ModelBuilder::new();
            builder.name = organization;
            builder
        });
        if proto.collection == Collection::Clusters && builder.merge_into_manifest(&proto, diagnostics) {
            continue;
        }
        builder.add(entity(proto.collection, proto.key, proto.location, proto.fields));
    }
    for (owner, membership) in memberships {
        models
            .entry(owner)
            .or_insert_with(ModelBuilder::new)
            .join_pool(membership, diagnostics);
    }
    models.into_values().map(ModelBuilder::finish).collect()
}

/// Whether `proto` is a cluster's membership in a pool file's pool.
fn is_membership(proto: &Proto) -> bool {
    proto.collection == Collection::Clusters && proto.field("source").and_then(Field::as_str) == Some(pools::MEMBERSHIP)
}

/// Without a DataPlane, values files of several organizations (`ORG_NAME`)
/// are the data planes of different organizations: each organization's
/// clusters make a model of their own (owner `\0` + its name; no directory
/// name holds a NUL), so no finding compares one organization's clusters
/// with another's. A cluster that a `Cluster` manifest without a DataPlane
/// also describes stays with that manifest, in the model of the files
/// without a DataPlane.
fn split_organizations(protos: &mut [(Option<String>, Proto)], unowned: Option<&ModelBuilder>) {
    let organization = |proto: &Proto| -> Option<Arc<str>> {
        let from_values = proto.field("source").and_then(Field::as_str) == Some("values");
        (proto.collection == Collection::Clusters && from_values)
            .then(|| proto.field("organization").and_then(Field::as_str).map(Arc::from))
            .flatten()
    };
    let organizations: BTreeSet<Arc<str>> = protos
        .iter()
        .filter(|(owner, _)| owner.is_none())
        .filter_map(|(_, proto)| organization(proto))
        .collect();
    if organizations.len() < 2 {
        return;
    }
    let manifest_clusters: BTreeSet<&str> = unowned
        .and_then(|builder| builder.entities.get(&Collection::Clusters))
        .into_iter()
        .flatten()
        .map(|cluster| cluster.key.as_ref())
        .collect();
    let mut moved: FxHashMap<Arc<str>, String> = FxHashMap::default();
    for (owner, proto) in protos.iter_mut().filter(|(owner, _)| owner.is_none()) {
        if manifest_clusters.contains(proto.key.as_ref()) {
            continue;
        }
        if let Some(name) = organization(proto) {
            let organization_owner = format!("\0{name}");
            moved.insert(proto.key.clone(), organization_owner.clone());
            *owner = Some(organization_owner);
        }
    }
    // A pool file's memberships follow their clusters, and the pool follows
    // its members when they all went to one organization.
    let mut pool_owners: BTreeMap<Arc<str>, BTreeSet<Option<String>>> = BTreeMap::new();
    for (owner, proto) in protos
        .iter_mut()
        .filter(|(owner, proto)| owner.is_none() && is_membership(proto))
    {
        *owner = moved.get(&proto.key).cloned();
        if let Some(pool) = proto.field("pool").and_then(Field::as_str) {
            pool_owners.entry(Arc::from(pool)).or_default().insert(owner.clone());
        }
    }
    for (owner, proto) in protos.iter_mut() {
        if owner.is_none()
            && proto.collection == Collection::Pools
            && let Some(owners) = pool_owners.get(&proto.key).filter(|owners| owners.len() == 1)
        {
            *owner = owners.iter().next().cloned().flatten();
        }
    }
}

/// Gives each entity whose key an earlier one of its collection in the same
/// file has the occurrence number of its key there (2 for the second); the
/// others keep 1. Counting within a file keeps a finding's fingerprint (file
/// and model path) when another file with the same key is added. Keys are
/// counted once all entities are in place, borrowed from them: the map
/// neither copies nor counts references to a key.
fn number_repeated_keys(entities: &mut [Arc<Entity>]) {
    let repeated: Vec<(usize, usize)> = {
        let mut seen: FxHashMap<(SourceId, &str), usize> =
            FxHashMap::with_capacity_and_hasher(entities.len(), Default::default());
        entities
            .iter()
            .enumerate()
            .filter_map(|(at, entity)| {
                let count = seen.entry((entity.location.source, entity.key.as_ref())).or_insert(0);
                *count += 1;
                (*count > 1).then_some((at, *count))
            })
            .collect()
    };
    for (at, occurrence) in repeated {
        if let Some(entity) = entities.get_mut(at) {
            Arc::make_mut(entity).occurrence = occurrence;
        }
    }
}

/// The directory of a root-relative path.
fn dir_of(root_relative: &str) -> &str {
    root_relative.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The directory of the nearest DataPlane at or above `dir`.
fn nearest_owner(dir: &str, owners: &BTreeMap<String, Field>) -> Option<String> {
    let mut current = dir;
    loop {
        if owners.contains_key(current) {
            return Some(current.to_string());
        }
        if current.is_empty() {
            return None;
        }
        current = current.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

/// A new entity, its fields sorted by name (the first of a repeated name
/// kept); the model builder gives it its order, and its occurrence when its
/// key repeats.
fn entity(
    collection: Collection,
    key: Arc<str>,
    location: Location,
    mut fields: Vec<(&'static str, Field)>,
) -> Arc<Entity> {
    fields.sort_by(|a, b| a.0.cmp(b.0));
    fields.dedup_by(|a, b| a.0 == b.0);
    // Hundreds of thousands of entities live until the end of the run.
    fields.shrink_to_fit();
    Arc::new(Entity {
        collection,
        key,
        occurrence: 1,
        order: 0,
        location,
        fields,
    })
}

/// A unit's key under project isolation: `domain/project`. Made for every
/// unit and placement (18,000 on the bench repo): concatenated, not
/// formatted, at a sixth of the instructions.
fn unit_key(domain: &str, project: &str) -> Arc<str> {
    let mut key = String::with_capacity(domain.len() + 1 + project.len());
    key.push_str(domain);
    key.push('/');
    key.push_str(project);
    Arc::from(key)
}

fn spec_field<'m>(spec: &'m [(&'static str, Field)], name: &str) -> Option<&'m Field> {
    spec.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
}

/// The entities a manifest makes, placed in the model from `next_order` on.
fn prepare(manifest: Manifest, max_units: usize, next_order: &mut u64) -> Prepared {
    let kind = manifest.kind;
    let name = manifest.name.clone();
    let mut made = Vec::new();
    let mut problems = Vec::new();
    match manifest.kind {
        Kind::DataPlane => data_plane(manifest, max_units, &mut made, &mut problems),
        Kind::ClusterPool => {
            let mut fields = normalized_spec(manifest.spec);
            fields.push(("name", manifest.name.clone()));
            let name = manifest.name.as_str().unwrap_or_default();
            let location = manifest.name.location;
            made.push(entity(Collection::Pools, Arc::from(name), location, fields));
        }
        Kind::Cluster => {
            let has_pool = spec_field(&manifest.spec, "pool").is_some();
            let mut fields = normalized_spec(manifest.spec);
            fields.push(("name", manifest.name.clone()));
            if !has_pool {
                fields.push(("pool", Field::string("default", manifest.name.location)));
            }
            let name = manifest.name.as_str().unwrap_or_default();
            let location = manifest.name.location;
            made.push(entity(Collection::Clusters, Arc::from(name), location, fields));
        }
    }
    Prepared {
        kind,
        name,
        entities: placed(made, next_order),
        problems,
    }
}

/// `made` by collection, each entity given its place in the model, from
/// `next_order` on in the order made. Done on the loading thread that just
/// made them: the model builder, on one thread, then moves whole lists and
/// reads no entity (26,000 entities on the bench repo, each a cache miss
/// there).
fn placed(made: Vec<Arc<Entity>>, next_order: &mut u64) -> Vec<(Collection, Vec<Arc<Entity>>)> {
    let mut by_collection: Vec<(Collection, Vec<Arc<Entity>>)> = Vec::new();
    for mut entity in made {
        Arc::make_mut(&mut entity).order = *next_order;
        *next_order += 1;
        match by_collection
            .iter_mut()
            .find(|(collection, _)| *collection == entity.collection)
        {
            Some((_, list)) => list.push(entity),
            None => by_collection.push((entity.collection, vec![entity])),
        }
    }
    // Kept until the model is built, one set per manifest: most files make
    // one entity, and a vector's first growth has room for four.
    by_collection.shrink_to_fit();
    for (_, list) in &mut by_collection {
        list.shrink_to_fit();
    }
    by_collection
}

/// A DataPlane's entities: itself, its domains and projects, its isolation
/// units and its placements.
fn data_plane(manifest: Manifest, max_units: usize, out: &mut Vec<Arc<Entity>>, problems: &mut Vec<Diagnostic>) {
    let Manifest {
        name: dp_name, spec, ..
    } = manifest;
    let name = dp_name.as_str().unwrap_or_default();
    let isolation = spec_field(&spec, "isolation")
        .and_then(Field::as_str)
        .unwrap_or("domain")
        .to_string();
    let mut fields = Vec::with_capacity(spec.len() + 2);
    let mut tables = Vec::with_capacity(3);
    for (field_name, field) in spec {
        if matches!(field_name, "domains" | "projects" | "placements") {
            tables.push((field_name, field));
        } else {
            fields.push((field_name, field));
        }
    }
    fields.push(("name", dp_name.clone()));
    if spec_field(&fields, "isolation").is_none() {
        fields.push(("isolation", Field::string(&isolation, dp_name.location)));
    }
    // The placements are the bulk of a large DataPlane: their fields move
    // into the entities, uncopied.
    let placements = tables
        .iter_mut()
        .find(|(name, _)| *name == "placements")
        .map(|(_, field)| std::mem::replace(&mut field.value, Value::List(Vec::new())));
    let placements = match placements {
        Some(Value::List(placements)) => placements,
        _ => Vec::new(),
    };
    out.push(entity(
        Collection::DataPlanes,
        Arc::from(name),
        dp_name.location,
        fields,
    ));

    let domains = spec_field(&tables, "domains").map_or(&[][..], Field::items);
    let projects = spec_field(&tables, "projects").map_or(&[][..], Field::items);
    // Project isolation makes a unit per domain and project: a short file
    // must not make a model of billions of units. Over the limit, the
    // isolation table is left out whole (a partial one would only give
    // wrong findings).
    if isolation == "project" && domains.len().saturating_mul(projects.len()) > max_units {
        let location = spec_field(&tables, "projects").map_or(dp_name.location, |f| f.location);
        problems.push(Diagnostic::error(
            INPUT_LIMIT,
            format!(
                "{} domains and {} projects make more than {max_units} isolation units (--max-units); the isolation table was not checked",
                domains.len(),
                projects.len()
            ),
            location,
        ));
        return;
    }
    let mut production: HashMap<&str, Field> = HashMap::new();
    for domain in domains {
        let (Some(name), Some(name_field)) = (domain.at_path("name").and_then(Field::as_str), domain.at_path("name"))
        else {
            continue;
        };
        let is_production = domain.at_path("production").cloned().unwrap_or(Field {
            value: Value::Bool(false),
            location: name_field.location,
        });
        production.insert(name, is_production.clone());
        let fields = vec![("name", name_field.clone()), ("production", is_production)];
        out.push(entity(
            Collection::Domains,
            Arc::from(name),
            name_field.location,
            fields,
        ));
    }
    for project in projects {
        let name = project.as_str().unwrap_or_default();
        out.push(entity(
            Collection::Projects,
            Arc::from(name),
            project.location,
            vec![("name", project.clone())],
        ));
    }
    for domain in domains {
        let Some(domain_field) = domain.at_path("name") else {
            continue;
        };
        let domain_name = domain_field.as_str().unwrap_or_default();
        let Some(is_production) = production.get(domain_name) else {
            continue;
        };
        let base = [("domain", domain_field), ("production", is_production)];
        if isolation == "project" {
            for project in projects {
                let key = unit_key(domain_name, project.as_str().unwrap_or_default());
                let mut fields = Vec::with_capacity(base.len() + 2);
                fields.extend(base.iter().map(|(name, field)| (*name, (*field).clone())));
                fields.push(("project", project.clone()));
                let key_field = Field {
                    value: Value::String(key.clone()),
                    location: project.location,
                };
                fields.push(("key", key_field));
                out.push(entity(Collection::Units, key, project.location, fields));
            }
        } else {
            let mut fields: Vec<(&'static str, Field)> =
                base.iter().map(|(name, field)| (*name, (*field).clone())).collect();
            fields.push(("key", Field::string(domain_name, domain_field.location)));
            out.push(entity(
                Collection::Units,
                Arc::from(domain_name),
                domain_field.location,
                fields,
            ));
        }
    }
    for placement in placements {
        let domain = placement.at_path("domain").and_then(Field::as_str).unwrap_or_default();
        // Under domain isolation the unit is the domain: a project there
        // is a shape error of its own, not another unit.
        let unit: Arc<str> = match placement.at_path("project").and_then(Field::as_str) {
            Some(project) if isolation == "project" => unit_key(domain, project),
            _ => Arc::from(domain),
        };
        let is_production = production.get(domain).cloned();
        let Value::Map(entries) = placement.value else {
            continue;
        };
        // Room for the two fields added below: no regrowth per placement.
        let mut fields: Vec<(&'static str, Field)> = Vec::with_capacity(entries.len() + 2);
        fields.extend(
            entries
                .into_iter()
                .filter_map(|(name, field)| manifest::intern(&name).map(|name| (name, field))),
        );
        let unit_field = Field {
            value: Value::String(unit.clone()),
            location: placement.location,
        };
        fields.push(("unit", unit_field));
        if let Some(is_production) = is_production {
            fields.push(("production", is_production));
        }
        out.push(entity(Collection::Placements, unit, placement.location, fields));
    }
}

struct ModelBuilder {
    name: Option<Arc<str>>,
    entities: BTreeMap<Collection, Vec<Arc<Entity>>>,
    /// The place of the next entity an adapter makes: after every
    /// manifest's entities.
    next_order: u64,
}

impl ModelBuilder {
    fn new() -> ModelBuilder {
        ModelBuilder {
            name: None,
            entities: BTreeMap::new(),
            next_order: 1 << 63,
        }
    }

    /// Gives an entity an adapter made its place in the model; its key's
    /// occurrence comes when the model is finished.
    fn add(&mut self, mut entity: Arc<Entity>) {
        // Not shared yet: the entity is changed in place, not copied.
        Arc::make_mut(&mut entity).order = self.next_order;
        self.next_order += 1;
        self.entities.entry(entity.collection).or_default().push(entity);
    }

    /// Puts the cluster a pool file lists in that pool. A cluster whose pool
    /// no file states (values files and manifests without `pool` give
    /// `default`, at the cluster's name) joins it; one already in another pool (its manifest's, or
    /// a pool file's listed earlier) is a `cluster-field-conflict`, since a
    /// cluster lives in exactly one pool. A cluster known only from the
    /// pool file is a cluster of the model.
    fn join_pool(&mut self, membership: Proto, diagnostics: &mut Vec<Diagnostic>) {
        let Some(pool) = membership.field("pool").cloned() else {
            return;
        };
        let cluster = self
            .entities
            .get_mut(&Collection::Clusters)
            .and_then(|clusters| clusters.iter_mut().find(|c| c.key == membership.key));
        let Some(cluster) = cluster else {
            let fields = membership.fields.into_iter().filter(|(n, _)| *n != "source").collect();
            self.add(entity(
                Collection::Clusters,
                membership.key,
                membership.location,
                fields,
            ));
            return;
        };
        let current = cluster.field("pool").cloned();
        let stated = |own: &Field| own.as_str() != Some("default") || own.location != cluster.location;
        match current {
            Some(own) if own.value == pool.value => {}
            Some(own) if stated(&own) => diagnostics.push(
                Diagnostic::error(
                    CLUSTER_FIELD_CONFLICT,
                    format!(
                        "cluster {} is listed as a member of pool {}, but it is in pool {}; a cluster lives in one pool",
                        membership.key,
                        pool.as_str().unwrap_or_default(),
                        own.as_str().unwrap_or_default()
                    ),
                    pool.location,
                )
                .with_related(own.location, "the pool it is in"),
            ),
            _ => {
                let cluster = Arc::make_mut(cluster);
                cluster.fields.retain(|(n, _)| *n != "pool");
                cluster.fields.push(("pool", pool));
                cluster.fields.sort_by(|a, b| a.0.cmp(b.0));
            }
        }
    }

    /// Folds a cluster read from a values file into the `Cluster` manifest of
    /// the same name, if there is one: the manifest gives the pool, the values
    /// file the fields the manifest leaves out, and a field both give with
    /// different values is a finding on both. `false` when there is no manifest.
    fn merge_into_manifest(&mut self, proto: &Proto, diagnostics: &mut Vec<Diagnostic>) -> bool {
        let Some(cluster) = self.entities.get_mut(&Collection::Clusters).and_then(|clusters| {
            clusters
                .iter_mut()
                .find(|c| c.key == proto.key && c.field("source").is_none())
        }) else {
            return false;
        };
        let cluster = Arc::make_mut(cluster);
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

    /// A domain's identity is production when the DataPlane says the domain
    /// is (`domains[].production`), located at the domain's declaration.
    fn derive_identity_production(&mut self) {
        let production: FxHashMap<&str, Field> = self
            .entities
            .get(&Collection::Domains)
            .into_iter()
            .flatten()
            .filter_map(|domain| Some((domain.key.as_ref(), domain.field("production")?.clone())))
            .collect();
        if production.is_empty() {
            return;
        }
        let derived: Vec<(usize, Field)> = self
            .entities
            .get(&Collection::Identities)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(at, identity)| Some((at, production.get(identity.key.as_ref())?.clone())))
            .collect();
        self.set_derived(Collection::Identities, "production", derived);
    }

    /// A cluster is production when a unit it serves (`units`) is; it is
    /// non-production when it serves units and none is. Unknown otherwise.
    fn derive_cluster_production(&mut self) {
        let production: FxHashMap<&str, bool> = self
            .entities
            .get(&Collection::Units)
            .into_iter()
            .flatten()
            .map(|u| {
                (
                    u.key.as_ref(),
                    matches!(u.field("production").map(|f| &f.value), Some(Value::Bool(true))),
                )
            })
            .collect();
        if production.is_empty() {
            return;
        }
        // Which clusters serve a known unit, and whether one is production:
        // found on the shared entities, and only those are changed.
        let derived: Vec<(usize, Field)> = self
            .entities
            .get(&Collection::Clusters)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(at, cluster)| {
                let units = cluster.field("units")?;
                let Value::List(items) = &units.value else {
                    return None;
                };
                let mut known = items.iter().filter_map(|u| u.as_str().and_then(|u| production.get(u)));
                let first = *known.next()?;
                let value = Value::Bool(first || known.any(|p| *p));
                Some((
                    at,
                    Field {
                        value,
                        location: units.location,
                    },
                ))
            })
            .collect();
        self.set_derived(Collection::Clusters, "production", derived);
    }

    /// Gives the entities of `collection` at the positions of `derived`
    /// their field `name`: only those are changed (copied when shared).
    fn set_derived(&mut self, collection: Collection, name: &'static str, derived: Vec<(usize, Field)>) {
        let entities = self
            .entities
            .get_mut(&collection)
            .map_or(&mut [][..], Vec::as_mut_slice);
        for (at, field) in derived {
            if let Some(entity) = entities.get_mut(at) {
                let entity = Arc::make_mut(entity);
                entity.fields.push((name, field));
                entity.fields.sort_by(|a, b| a.0.cmp(b.0));
            }
        }
    }

    /// A unit's own execution cluster label: the flytectl file that names
    /// its domain and project, else its project alone, else its domain
    /// (a workflow's label covers one workflow, not the unit). The first
    /// file in model order wins where two name the same scope.
    fn derive_unit_labels(&mut self) {
        let mut labels: FxHashMap<(Option<&str>, Option<&str>), &Field> = FxHashMap::default();
        for label in self.entities.get(&Collection::ExecutionLabels).into_iter().flatten() {
            let text = |name: &str| label.field(name).and_then(Field::as_str);
            let scope = (text("domain"), text("project"));
            if text("workflow").is_some() || scope == (None, None) {
                continue;
            }
            if let Some(field) = label.field("label") {
                labels.entry(scope).or_insert(field);
            }
        }
        if labels.is_empty() {
            return;
        }
        let derived: Vec<(usize, Field)> = self
            .entities
            .get(&Collection::Units)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(at, unit)| {
                let domain = unit.field("domain").and_then(Field::as_str);
                let project = unit.field("project").and_then(Field::as_str);
                let own = match project {
                    Some(_) => labels
                        .get(&(domain, project))
                        .or_else(|| labels.get(&(None, project)))
                        .or_else(|| labels.get(&(domain, None))),
                    None => labels.get(&(domain, None)),
                };
                own.map(|field| (at, (*field).clone()))
            })
            .collect();
        self.set_derived(Collection::Units, "executionLabel", derived);
    }

    fn finish(mut self) -> Model {
        self.derive_unit_labels();
        self.derive_cluster_production();
        self.derive_identity_production();
        qualify_buckets_of_two_clouds(&mut self.entities);
        for entities in self.entities.values_mut() {
            number_repeated_keys(entities);
        }
        let collections = Collection::ALL
            .into_iter()
            .map(|collection| (collection, self.entities.remove(&collection).unwrap_or_default()))
            .collect();
        Model {
            name: self.name,
            collections,
        }
    }
}

/// Buckets compare by name (`acme-meta` is `s3://acme-meta`), but a name
/// given with the schemes of two clouds (`s3://x` and `gs://x`) is two
/// buckets: there, each bucket given with a scheme, or of a cluster whose
/// provider is known, is named with its scheme.
fn qualify_buckets_of_two_clouds(entities: &mut BTreeMap<Collection, Vec<Arc<Entity>>>) {
    let scheme = |entity: &Entity| -> Option<(Arc<str>, &'static str)> {
        let uri = entity.field("metadataBucketUri")?.as_str()?;
        let (scheme, _) = uri.split_once("://")?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" => "s3",
            "gs" | "gcs" => "gs",
            "abfs" | "abfss" | "wasb" | "wasbs" | "azblob" => "abfs",
            "oci" => "oci",
            _ => return None,
        };
        Some((Arc::from(entity.field("metadataBucket")?.as_str()?), scheme))
    };
    // Only clusters and pools have buckets.
    let with_buckets = [Collection::Clusters, Collection::Pools];
    let mut clouds: BTreeMap<Arc<str>, BTreeSet<&'static str>> = BTreeMap::new();
    // A bare name with no provider to tell its cloud (a pool's) could be
    // either bucket: such a name stays unqualified everywhere.
    let mut cloudless: BTreeSet<Arc<str>> = BTreeSet::new();
    for entity in with_buckets.iter().filter_map(|c| entities.get(c)).flatten() {
        if let Some((name, scheme)) = scheme(entity) {
            clouds.entry(name).or_default().insert(scheme);
        } else if entity.field("provider").is_none()
            && let Some(name) = entity.field("metadataBucket").and_then(Field::as_str)
        {
            cloudless.insert(Arc::from(name));
        }
    }
    clouds.retain(|name, schemes| schemes.len() > 1 && !cloudless.contains(name));
    if clouds.is_empty() {
        return;
    }
    // A bare name is the bucket of its cluster's own cloud, as the chart
    // writes it.
    let provider_scheme = |entity: &Entity| -> Option<(Arc<str>, &'static str)> {
        let scheme = match entity.field("provider")?.as_str()? {
            "aws" => "s3",
            "gcp" => "gs",
            "azure" => "abfs",
            _ => return None,
        };
        Some((Arc::from(entity.field("metadataBucket")?.as_str()?), scheme))
    };
    for entity in entities
        .iter_mut()
        .filter(|(c, _)| with_buckets.contains(c))
        .flat_map(|(_, list)| list)
    {
        let Some((name, scheme)) = scheme(entity).or_else(|| provider_scheme(entity)) else {
            continue;
        };
        if !clouds.contains_key(&name) {
            continue;
        }
        let entity = Arc::make_mut(entity);
        if let Some((_, field)) = entity.fields.iter_mut().find(|(n, _)| *n == "metadataBucket") {
            *field = Field::string(&format!("{scheme}://{name}"), field.location);
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

/// The spec's fields, with a bucket URI reduced to its bucket's name (the
/// URI itself kept as `metadataBucketUri`), and room for two more.
fn normalized_spec(spec: Vec<(&'static str, Field)>) -> Vec<(&'static str, Field)> {
    let mut fields = Vec::with_capacity(spec.len() + 3);
    for (name, field) in spec {
        match (name, field.as_str()) {
            ("metadataBucket", Some(uri)) => {
                fields.push((name, Field::string(bucket_name(uri), field.location)));
                fields.push(("metadataBucketUri", field));
            }
            _ => fields.push((name, field)),
        }
    }
    fields
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
        repos.extend(
            std::fs::read_dir(fixtures.join("real-shapes"))
                .expect("real-shapes fixtures")
                .flatten()
                .map(|shape| shape.path()),
        );
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
                        extracted: extract(
                            &Wrapping {
                                text: &text,
                                source,
                                limits: yaml::Limits::default(),
                                layer: false,
                                texts_read: Default::default(),
                            },
                            loaded.documents,
                            MAX_UNITS,
                            &mut diagnostics,
                        )
                        .0,
                    }
                })
                .collect();
            let made = collections_made(&files);
            for model in build(files, &mut diagnostics) {
                for (name, entities) in &model.collections {
                    if !entities.is_empty() {
                        assert!(made.contains(name), "{}: `{name}` was not announced", repo.display());
                        seen.insert(*name);
                    }
                }
            }
        }
        // The fixtures make every collection, so the test covers them all.
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), Collection::ALL);
    }

    /// The models of files given as texts, in order.
    fn models_of(texts: &[&str]) -> Vec<Model> {
        let mut diagnostics = Vec::new();
        let files: Vec<LoadedFile> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let source = SourceId(u32::try_from(i).expect("few files"));
                let loaded = yaml::load(text, source, yaml::Limits::default());
                LoadedFile {
                    source,
                    root_relative: format!("{i}.yaml"),
                    extracted: extract(
                        &Wrapping {
                            text,
                            source,
                            limits: yaml::Limits::default(),
                            layer: false,
                            texts_read: Default::default(),
                        },
                        loaded.documents,
                        MAX_UNITS,
                        &mut diagnostics,
                    )
                    .0,
                }
            })
            .collect();
        build(files, &mut diagnostics)
    }

    #[test]
    fn a_unit_takes_the_label_of_its_most_specific_flytectl_file() {
        let models = models_of(&[
            "apiVersion: planelint/v1\nkind: DataPlane\nmetadata: {name: acme}\nspec:\n  isolation: project\n  \
             domains: [{name: development}, {name: staging}]\n  projects: [a, b, c]\n",
            "domain: development\nproject: a\nvalue: unit\n",
            "project: a\nvalue: project\n",
            "project: b\nvalue: project\n",
            "domain: staging\nvalue: domain\n",
            "domain: development\nproject: c\nworkflow: wf\nvalue: workflow\n",
        ]);
        let units: Vec<(String, Option<String>)> = models
            .iter()
            .flat_map(|model| model.collection(Collection::Units))
            .map(|unit| {
                let label = unit.field("executionLabel").and_then(Field::as_str).map(str::to_string);
                (unit.key.to_string(), label)
            })
            .collect();
        let label = |text: &str| Some(text.to_string());
        assert_eq!(
            units,
            [
                ("development/a".to_string(), label("unit")),
                ("development/b".to_string(), label("project")),
                ("development/c".to_string(), None),
                ("staging/a".to_string(), label("project")),
                ("staging/b".to_string(), label("project")),
                ("staging/c".to_string(), label("domain")),
            ]
        );
    }
}
