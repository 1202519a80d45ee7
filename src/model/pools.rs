//! Union cluster pool files, as passed to `flyte create cluster-pool NAME
//! --file`: `name`, `config.object_store_ref.uri` (the pool's metadata
//! bucket) and `member_clusters`. The pool becomes a pool of the model; each
//! member, the membership of a cluster in it (merged into the cluster by the
//! model builder).

use super::{Collection, Field, Proto, bucket_name};
use crate::diagnostic::Location;
use crate::source::SourceId;
use crate::yaml::Node;
use std::sync::Arc;

/// The `source` of a cluster's membership in a pool file's pool.
pub const MEMBERSHIP: &str = "pool-file";

const POOL_FILE_KEYS: &[&str] = &["name", "description", "member_clusters", "config"];

/// The pool and memberships of `root`, if it is a pool file.
pub fn extract(root: &Node, source: SourceId, out: &mut Vec<Proto>) {
    let Some(entries) = root.as_mapping() else {
        return;
    };
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
    for member in root.get("member_clusters").and_then(Node::as_sequence).unwrap_or(&[]) {
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
    out.push(Proto {
        collection: Collection::Pools,
        key: Arc::from(pool),
        location: name.location,
        fields,
    });
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
