//! Model: the manifests of a repo folded into one normalized model per
//! organization. Every entity and field remembers the file and span it came
//! from, so policies never deal with positions. Imports `source`,
//! `diagnostic`, `yaml`, `field` and `schema` (the manifests' reader).

mod build;
mod flyte;
mod manifest;
mod pools;
mod templates;
mod unread;
mod values;
mod wrapped;

pub use crate::field::{Field, Value};
pub use build::{Extracted, LoadedFile, MAX_UNITS, Prepared, build, collections_made, extract};
pub use manifest::json_schema as manifest_schema;
pub use unread::Unread;
pub use values::{Layering, Place};
pub use wrapped::Wrapping;

use crate::diagnostic::Location;
use std::sync::Arc;

/// A collection of the model: what `forEach` names and `model.<name>` shows
/// to CEL. Declared in name order, which is the model's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collection {
    ClusterBlocks,
    Clusters,
    DataPlanes,
    Domains,
    ExecutionLabels,
    FlyteClusters,
    Identities,
    Labels,
    Placements,
    Pools,
    Projects,
    Routes,
    Settings,
    StorageBlocks,
    TemplateReferences,
    TemplateVariables,
    UnitRefs,
    Units,
}

impl Collection {
    pub const ALL: [Collection; 18] = [
        Collection::ClusterBlocks,
        Collection::Clusters,
        Collection::DataPlanes,
        Collection::Domains,
        Collection::ExecutionLabels,
        Collection::FlyteClusters,
        Collection::Identities,
        Collection::Labels,
        Collection::Placements,
        Collection::Pools,
        Collection::Projects,
        Collection::Routes,
        Collection::Settings,
        Collection::StorageBlocks,
        Collection::TemplateReferences,
        Collection::TemplateVariables,
        Collection::UnitRefs,
        Collection::Units,
    ];

    /// Its name in CEL and in `forEach`.
    pub const fn name(self) -> &'static str {
        match self {
            Collection::ClusterBlocks => "clusterBlocks",
            Collection::Clusters => "clusters",
            Collection::DataPlanes => "dataPlanes",
            Collection::Domains => "domains",
            Collection::ExecutionLabels => "executionLabels",
            Collection::FlyteClusters => "flyteClusters",
            Collection::Identities => "identities",
            Collection::Labels => "labels",
            Collection::Placements => "placements",
            Collection::Pools => "pools",
            Collection::Projects => "projects",
            Collection::Routes => "routes",
            Collection::Settings => "settings",
            Collection::StorageBlocks => "storageBlocks",
            Collection::TemplateReferences => "templateReferences",
            Collection::TemplateVariables => "templateVariables",
            Collection::UnitRefs => "unitRefs",
            Collection::Units => "units",
        }
    }

    pub fn from_name(name: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl std::fmt::Display for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The collections' names, in the order `model` shows them to CEL.
// Evaluated when compiling: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
pub const COLLECTIONS: [&str; Collection::ALL.len()] = {
    let mut names = [""; Collection::ALL.len()];
    let mut at = 0;
    while at < names.len() {
        names[at] = Collection::ALL[at].name();
        at += 1;
    }
    names
};

/// An entity as an adapter reads it from one file, before the model orders
/// it and gives it its place in a collection.
#[derive(Debug)]
pub struct Proto {
    pub collection: Collection,
    pub key: Arc<str>,
    pub location: Location,
    pub fields: Vec<(&'static str, Field)>,
}

impl Proto {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }
}

/// One entity of a collection: a cluster, a pool, a placement, a unit...
#[derive(Clone, Debug)]
pub struct Entity {
    /// The collection it belongs to.
    pub collection: Collection,
    /// Its key in the collection: a name, or a unit (`staging/project-2`).
    pub key: Arc<str>,
    /// The key's occurrence number when a key repeats (1 for the first).
    pub occurrence: usize,
    /// Its position in the model: file path relative to the root, then
    /// position in the file (entities from adapters after all manifests').
    pub order: u64,
    /// Where the entity is, for findings on no particular field.
    pub location: Location,
    /// Its fields, sorted by name. Names are the schema's own strings.
    pub fields: Vec<(&'static str, Field)>,
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.field_index(name).and_then(|i| self.fields.get(i)).map(|(_, f)| f)
    }

    /// Where the field `name` is in `fields`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        // An entity has a dozen fields at most: a scan that compares lengths
        // first does without most string comparisons.
        self.fields
            .iter()
            .position(|(n, _)| n.len() == name.len() && *n == name)
    }

    /// The field at a dotted path (`onDemandProjects.defaultAccount.id`).
    pub fn field_at(&self, path: &str) -> Option<&Field> {
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        let field = self.field(head)?;
        match rest {
            Some(rest) => field.at_path(rest),
            None => Some(field),
        }
    }

    /// The entity named by key, e.g. `placements[staging/project-2]`, with
    /// `#N` when the key repeats.
    pub fn model_path(&self) -> String {
        if self.occurrence > 1 {
            format!("{}[{}]#{}", self.collection, self.key, self.occurrence)
        } else {
            format!("{}[{}]", self.collection, self.key)
        }
    }
}

/// One organization's model: its collections of entities, each in order.
#[derive(Debug, Default)]
pub struct Model {
    /// The organization's name, when a `DataPlane` declares it.
    pub name: Option<Arc<str>>,
    pub collections: Vec<(Collection, Vec<Arc<Entity>>)>,
}

impl Model {
    pub fn collection(&self, wanted: Collection) -> &[Arc<Entity>] {
        self.collections
            .iter()
            .find(|(collection, _)| *collection == wanted)
            .map_or(&[], |(_, entities)| entities.as_slice())
    }
}

/// The bucket a URI or bare name designates: the host part of a URI
/// (`s3://acme-meta/prefix` is `acme-meta`), else the name itself.
pub fn bucket_name(text: &str) -> &str {
    match text.split_once("://") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => text.trim_end_matches('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_compare_by_host() {
        assert_eq!(bucket_name("s3://acme-meta"), "acme-meta");
        assert_eq!(bucket_name("gs://acme-meta/prefix/x"), "acme-meta");
        assert_eq!(bucket_name("acme-meta"), "acme-meta");
    }
}
