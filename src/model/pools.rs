//! Union cluster pool files, as passed to `flyte create cluster-pool NAME
//! --file`: `name`, `config.object_store_ref.uri` (the pool's metadata
//! bucket) and `member_clusters`. The pool becomes a pool of the model; each
//! member, the membership of a cluster in it (merged into the cluster by the
//! model builder). A pool map (`clusterPools: {pool: [cluster, ...]}`)
//! gives memberships the same way, for pools declared elsewhere.

use super::{Collection, Field, Proto, bucket_name};
use crate::diagnostic::Location;
use crate::source::SourceId;
use crate::yaml::Node;
use std::sync::Arc;

/// The `source` of a cluster's membership in a pool file's pool.
pub const MEMBERSHIP: &str = "pool-file";

const POOL_FILE_KEYS: &[&str] = &["name", "description", "member_clusters", "config"];

/// The keys under which a document maps each pool to its clusters.
const POOL_MAP_KEYS: &[&str] = &["clusterPools", "cluster_pools"];

/// The pool and memberships of `root`, if it is a pool file or a pool map.
pub fn extract(root: &Node, source: SourceId, out: &mut Vec<Proto>) {
    let Some(entries) = root.as_mapping() else {
        return;
    };
    if let [entry] = entries
        && entry.key.as_str().is_some_and(|k| POOL_MAP_KEYS.contains(&k))
    {
        pool_map(&entry.value, source, out);
        return;
    }
    let known = entries
        .iter()
        .all(|e| e.key.as_str().is_some_and(|k| POOL_FILE_KEYS.contains(&k)));
    let store = root.get("config").and_then(|c| c.get("object_store_ref"));
    let (true, Some(store), Some(name)) = (known, store, root.get("name").and_then(|n| string(n, source))) else {
        return;
    };
    let mut fields = vec![("name", name.clone())];
    if let Some(uri) = store.get("uri").and_then(|n| string(n, source)) {
        let bucket = bucket_name(uri.as_str().unwrap_or_default());
        if !bucket.is_empty() {
            fields.push(("metadataBucket", Field::string(bucket, uri.location)));
            fields.push(("metadataBucketUri", uri));
        }
    }
    let pool = name.as_str().unwrap_or_default();
    let members = root.get("member_clusters").and_then(Node::as_sequence).unwrap_or(&[]);
    memberships(pool, members, source, out);
    out.push(Proto {
        collection: Collection::Pools,
        key: Arc::from(pool),
        location: name.location,
        fields,
    });
}

/// `clusterPools: {pool: [cluster, ...]}`: each pool's clusters. The map
/// declares no pool: its bucket is in the pool's own file or manifest, and a
/// pool that has none cannot be checked (`cluster-pool-unknown`).
fn pool_map(map: &Node, source: SourceId, out: &mut Vec<Proto>) {
    for entry in map.as_mapping().unwrap_or_default() {
        if let (Some(name), Some(members)) = (string(&entry.key, source), entry.value.as_sequence()) {
            memberships(name.as_str().unwrap_or_default(), members, source, out);
        }
    }
}

/// The membership in `pool` of each cluster `members` names (a name, or a
/// mapping with `name`).
fn memberships(pool: &str, members: &[Node], source: SourceId, out: &mut Vec<Proto>) {
    for member in members {
        let Some(cluster) = string(member, source).or_else(|| member.get("name").and_then(|n| string(n, source)))
        else {
            continue;
        };
        out.push(Proto {
            collection: Collection::Clusters,
            key: cluster.as_str().map(Arc::from).unwrap_or_default(),
            location: cluster.location,
            fields: vec![
                ("name", cluster.clone()),
                ("pool", Field::string(pool, cluster.location)),
                ("source", Field::string(MEMBERSHIP, cluster.location)),
            ],
        });
    }
}

fn string(node: &Node, source: SourceId) -> Option<Field> {
    node.as_str().filter(|s| !s.trim().is_empty()).map(|s| {
        Field::string(
            s.trim(),
            Location {
                source,
                span: node.span,
            },
        )
    })
}
