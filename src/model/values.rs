//! The Union data-plane Helm values adapter: a values file describes one
//! cluster, in any of the shapes real repositories use (the chart's top
//! level, its `global.*` block, the legacy `unionoperator` chart's `union.*`,
//! the operator's rendered config). Simple `{{ .Values.a.b }}` and
//! `{{ tpl .Values.a.b . }}` references are resolved, and a field keeps the
//! span of the value that was finally used. Empty strings (the chart's
//! defaults) and placeholders are unset, so a file whose cluster name is
//! empty describes no cluster.

use super::{Collection, Field, Proto, Value, bucket_name};
use crate::diagnostic::{Diagnostic, INPUT_LIMIT, Location};
use crate::source::SourceId;
use crate::yaml::{Entry, Node, Scalar};
use std::cell::{Cell, RefCell};
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
    pub fn extract(
        &self,
        files: &[(Option<Place>, Option<&Node>, SourceId)],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Vec<(usize, Vec<Proto>)> {
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
            extract(&layers, &mut entities, diagnostics);
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

/// Where each shape of Union data-plane values keeps a setting, in the order
/// planelint takes them: the first path holding a real value wins. The
/// shapes: the current chart's top level (`clusterName`, `storage.*`, ...),
/// its `global.*` block, the legacy `unionoperator` chart (`union.*`), and
/// the operator's own rendered config (`operator.clusterId`,
/// `operator.clusterData`).
const NAME: &[&[&str]] = &[
    &["clusterName"],
    &["global", "CLUSTER_NAME"],
    &["union", "clusterName"],
    &["operator", "clusterId", "name"],
];
const ORGANIZATION: &[&[&str]] = &[
    &["orgName"],
    &["global", "ORG_NAME"],
    &["config", "operator", "clusterId", "organization"],
    &["operator", "clusterId", "organization"],
];
const PROVIDER: &[&[&str]] = &[
    &["provider"],
    &["config", "operator", "clusterData", "cloudProvider"],
    &["operator", "clusterData", "cloudProvider"],
];
const REGION: &[&[&str]] = &[
    &["storage", "region"],
    &["union", "storage", "s3", "region"],
    &["operator", "clusterData", "bucketRegion"],
];
const GCP_PROJECT: &[&[&str]] = &[
    &["storage", "gcp", "projectId"],
    &["union", "storage", "gcs", "projectId"],
    &["operator", "clusterData", "gcpProjectId"],
];
/// The bucket the chart uses: an explicit prefix, else the storage bucket,
/// which defaults to `METADATA_BUCKET`.
const METADATA_BUCKET: &[&[&str]] = &[
    &["config", "operator", "clusterData", "metadataBucketPrefix"],
    &["storage", "metadataPrefix"],
    &["storage", "bucketName"],
    &["global", "METADATA_BUCKET"],
    &["union", "metadataBucketPrefix"],
    &["union", "storage", "bucketName"],
    &["operator", "clusterData", "metadataBucketPrefix"],
    &["operator", "clusterData", "bucketName"],
];
const FAST_REGISTRATION_BUCKET: &[&[&str]] = &[
    &["storage", "fastRegistrationBucketName"],
    &["global", "FAST_REGISTRATION_BUCKET"],
];
const STORAGE_PROVIDER: &[&[&str]] = &[
    &["storage", "provider"],
    &["union", "storage", "type"],
    &["operator", "clusterData", "storageType"],
];
const WORKER_IDENTITY: &[&[&str]] = &[
    &["userRoleAnnotationValue"],
    &["global", "WORKER_IAM_ROLE_ARN"],
    &["config", "operator", "clusterData", "userRole"],
    &["union", "userRoleAnnotationValue"],
    &["operator", "clusterData", "userRole"],
];
/// The service-account annotations that carry a backend identity, under
/// each shape's annotation maps.
const BACKEND_ANNOTATION_MAPS: &[&[&str]] = &[
    &["additionalServiceAccountAnnotations"],
    &["union", "unionoperator", "serviceAccount", "annotations"],
    &["union", "flytepropeller", "serviceAccount", "annotations"],
];
const ROLE_ANNOTATIONS: &[&str] = &[
    "eks.amazonaws.com/role-arn",
    "iam.gke.io/gcp-service-account",
    "azure.workload.identity/client-id",
];

/// Where Flyte's own charts name the cluster a deployment runs on: flyte-core
/// passes `flytepropeller.clusterName` as `--propeller.cluster-id`; the
/// same setting in propeller's config, for flyte-core and flyte-binary.
const FLYTE_NAME: &[&[&str]] = &[
    &["flytepropeller", "clusterName"],
    &["configmap", "core", "propeller", "cluster-id"],
    &["configuration", "inline", "propeller", "cluster-id"],
];
/// flyte-core keeps metadata and raw data in `storage.bucketName` (its raw
/// output prefix defaults to that bucket); flyte-binary has two containers.
const FLYTE_METADATA_BUCKET: &[&[&str]] = &[
    &["configuration", "storage", "metadataContainer"],
    &["storage", "bucketName"],
];
const FLYTE_USER_DATA_BUCKET: &[&[&str]] = &[
    &["configuration", "storage", "userDataContainer"],
    &["configmap", "core", "propeller", "rawoutput-prefix"],
    &["storage", "bucketName"],
];
const FLYTE_STORAGE_TYPE: &[&[&str]] = &[&["configuration", "storage", "provider"], &["storage", "type"]];

/// Whether `root` is a Union data-plane values document, in any shape.
pub(super) fn is_values(root: &Node) -> bool {
    let has = |path: &[&str]| path.iter().try_fold(root, |node, key| node.get(key)).is_some();
    has(&["global", "CLUSTER_NAME"])
        || has(&["clusterName"]) && (has(&["orgName"]) || has(&["storage"]) || has(&["host"]))
        || has(&["union", "clusterName"])
            && (has(&["union", "metadataBucketPrefix"]) || has(&["union", "storage"]) || has(&["union", "cloudUrl"]))
        || has(&["operator", "clusterId"])
        || has(&["operator", "clusterData"])
}

/// The cluster that values documents describe, if they are values files: one
/// document, or several layered (later wins).
pub fn extract(layers: &[(&Node, SourceId)], out: &mut Vec<Proto>, diagnostics: &mut Vec<Diagnostic>) {
    let values = Values::new(layers);
    read(&values, layers, out);
    diagnostics.extend(values.problem.into_inner());
}

fn read(values: &Values<'_>, layers: &[(&Node, SourceId)], out: &mut Vec<Proto>) {
    if !layers.iter().any(|(root, _)| is_values(root)) {
        flyte_deployment(values, out);
        return;
    }
    storage_block(values, out);
    // An empty name is the chart's own defaults: a values file, no cluster.
    let Some(name) = values.first(NAME) else {
        return;
    };
    let provider = values.first(PROVIDER).or_else(|| {
        // The legacy chart names only its storage type.
        let storage = values.field(&["union", "storage", "type"])?;
        let cloud = match storage.as_str()? {
            "s3" => "aws",
            "gcs" => "gcp",
            _ => return None,
        };
        Some(Field::string(cloud, storage.location))
    });
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
    let global = |keys: &[&str]| keys.iter().find_map(|key| values.field(&["global", key]));
    let backend = BACKEND_ANNOTATION_MAPS
        .iter()
        .flat_map(|map| ROLE_ANNOTATIONS.iter().map(move |key| [map, &[*key][..]].concat()))
        .find_map(|path| values.field(&path))
        .or_else(|| values.field(&["global", "BACKEND_IAM_ROLE_ARN"]));
    let optional: [(&'static str, Option<Field>); 7] = [
        ("organization", values.first(ORGANIZATION)),
        ("account", global(account_keys).or_else(|| values.first(GCP_PROJECT))),
        ("region", global(region_keys).or_else(|| values.first(REGION))),
        ("backendIdentity", backend),
        ("workerIdentity", values.first(WORKER_IDENTITY)),
        ("storageProvider", values.first(STORAGE_PROVIDER)),
        ("fastRegistrationBucket", values.first(FAST_REGISTRATION_BUCKET)),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(name, field)| field.map(|f| (name, f))),
    );
    // A prefix with no bucket in it (the chart's `s3://` default) names none.
    let metadata = METADATA_BUCKET
        .iter()
        .filter_map(|path| values.field(path))
        .find(|uri| !bucket_name(uri.as_str().unwrap_or_default()).is_empty());
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

/// The scheme of the metadata prefix the chart makes from each
/// `storage.provider` when the values set none (`storage.metadata-prefix`).
const CHART_PREFIX_SCHEMES: &[(&str, &str)] = &[
    ("compat", "s3://"),
    ("aws", "s3://"),
    ("custom", "s3://"),
    ("oci", "oci://"),
    ("gcs", "gs://"),
    ("azure", "azblob://"),
];
/// The chart's own operator prefix: the one `storage.*` makes.
const CHART_PREFIX_INCLUDE: &str = "storage.metadata-prefix";

/// The storage block of Union values, as the chart turns it into the
/// executor's storage config: the custom block's `type` and `stow.kind`,
/// the metadata prefix the operator gets (its own setting, else
/// `storage.metadataPrefix`, else the chart's default for the storage
/// provider) and an Azure storage account. Values with no `storage` block
/// (an overlay that sets something else) have none.
fn storage_block(values: &Values<'_>, out: &mut Vec<Proto>) {
    let Some((storage, storage_source)) = values
        .node(&["storage"])
        .filter(|(node, _)| node.as_mapping().is_some())
    else {
        return;
    };
    let at = |node: &Node, source: SourceId| Location {
        source,
        span: node.span,
    };
    let location = at(storage, storage_source);
    let raw = |path: &[&str]| {
        let (node, source) = values.node(path)?;
        let text = node.as_str()?.trim();
        (!text.is_empty()).then(|| Field::string(text, at(node, source)))
    };
    let mut fields: Vec<(&'static str, Field)> = vec![("setting", Field::string("storage", location))];
    if let Some(name) = values.first(NAME) {
        fields.push(("cluster", name));
    }
    if let Some(provider) = values.first(PROVIDER) {
        fields.push(("provider", provider));
    }
    let storage_provider = raw(&["storage", "provider"]);
    let provider_name = storage_provider
        .as_ref()
        .and_then(Field::as_str)
        .unwrap_or("compat")
        .to_string();
    if let Some(provider) = &storage_provider {
        fields.push(("storageProvider", provider.clone()));
    }
    let custom = values
        .key(&["storage", "custom"])
        .filter(|(entry, _)| entry.value.as_mapping().is_some_and(|entries| !entries.is_empty()));
    if provider_name == "custom"
        && let Some((custom, source)) = custom
    {
        fields.push((
            "customStorage",
            Field {
                value: Value::Bool(true),
                location: at(&custom.key, source),
            },
        ));
        if let Some(kind) = raw(&["storage", "custom", "type"]) {
            fields.push(("type", kind));
        }
        if let Some(kind) = raw(&["storage", "custom", "stow", "kind"]) {
            fields.push(("stowKind", kind));
        }
        if let Some(account) = values.field(&["storage", "custom", "stow", "config", "account"]) {
            fields.push(("account", account));
        }
    }
    let explicit = [
        &["config", "operator", "clusterData", "metadataBucketPrefix"][..],
        &["storage", "metadataPrefix"],
    ]
    .into_iter()
    .find_map(|path| raw(path).filter(|prefix| !prefix.as_str().is_some_and(|t| t.contains(CHART_PREFIX_INCLUDE))));
    let prefix = explicit.or_else(|| {
        let scheme = CHART_PREFIX_SCHEMES.iter().find(|(name, _)| *name == provider_name)?.1;
        let bucket = values.field(&["storage", "bucketName"]);
        let bucket = bucket.as_ref().and_then(Field::as_str).unwrap_or_default();
        let location = storage_provider.as_ref().map_or(location, |provider| provider.location);
        Some(Field::string(&format!("{scheme}{bucket}"), location))
    });
    if let Some(prefix) = prefix {
        fields.push(("metadataPrefix", prefix));
    }
    // Keyed by its cluster, when the values name one.
    let key = fields
        .iter()
        .find(|(name, _)| *name == "cluster")
        .and_then(|(_, cluster)| cluster.as_str())
        .unwrap_or("storage");
    out.push(Proto {
        collection: Collection::StorageBlocks,
        key: Arc::from(key),
        location,
        fields,
    });
}

/// The cluster a flyte-core or flyte-binary deployment runs on, when its
/// values name it: its metadata and user-data buckets and its storage
/// provider. Flyte has no cluster pools: the cluster is in the default pool
/// unless a `Cluster` manifest or a pool file puts it in another. A deployment
/// that names no cluster (a chart's defaults, an installation guide's
/// example) describes none: its buckets belong to nobody planelint knows.
fn flyte_deployment(values: &Values<'_>, out: &mut Vec<Proto>) {
    let Some(name) = values.first(FLYTE_NAME) else {
        return;
    };
    let storage_type = values.first(FLYTE_STORAGE_TYPE);
    // The sandbox's bucket lives in the cluster's own MinIO.
    if storage_type.as_ref().and_then(Field::as_str) == Some("sandbox") {
        return;
    }
    let mut fields: Vec<(&'static str, Field)> = vec![
        ("name", name.clone()),
        ("pool", Field::string("default", name.location)),
    ];
    let buckets = [
        ("metadataBucket", "metadataBucketUri", FLYTE_METADATA_BUCKET),
        ("userDataBucket", "userDataBucketUri", FLYTE_USER_DATA_BUCKET),
    ];
    for (bucket_field, uri_field, paths) in buckets {
        let uri = paths
            .iter()
            .filter_map(|path| values.field(path))
            .find(|uri| !bucket_name(uri.as_str().unwrap_or_default()).is_empty());
        if let Some(uri) = uri {
            let text = uri.as_str().unwrap_or_default();
            fields.push((bucket_field, Field::string(bucket_name(text), uri.location)));
            fields.push((uri_field, uri));
        }
    }
    if let Some(storage) = storage_type {
        // Both charts keep every provider's settings; only the chosen one's count.
        let (cloud, located): (&str, Option<(&str, Field)>) = match storage.as_str().unwrap_or_default() {
            "s3" => (
                "aws",
                values
                    .first(&[
                        &["storage", "s3", "region"],
                        &["configuration", "storage", "providerConfig", "s3", "region"],
                    ])
                    .map(|region| ("region", region)),
            ),
            "gcs" => (
                "gcp",
                values
                    .first(&[
                        &["storage", "gcs", "projectId"],
                        &["configuration", "storage", "providerConfig", "gcs", "project"],
                    ])
                    .map(|project| ("account", project)),
            ),
            _ => ("", None),
        };
        if !cloud.is_empty() {
            fields.push(("provider", Field::string(cloud, storage.location)));
        }
        fields.extend(located);
        fields.push(("storageProvider", storage));
    }
    fields.push(("source", Field::string("values", name.location)));
    out.push(Proto {
        collection: Collection::Clusters,
        key: Arc::from(name.as_str().unwrap_or_default()),
        location: name.location,
        fields,
    });
}

/// Where Union's charts read the control plane's host: the setting, then
/// its deprecated aliases, in the chart's precedence.
const CONTROL_PLANE_HOSTS: &[&[&str]] = &[
    &["global", "CONTROLPLANE_HOST"],
    &["host"],
    &["global", "UNION_CONTROL_PLANE_HOST"],
];
/// Where a cluster's components read the template that maps a unit to its
/// Kubernetes namespace: the Union chart's top level (its one source now)
/// and its older `config.*` blocks, the executor's and the operator's own
/// config, flyteadmin's config, and flyte-core's values.
const NAMESPACE_TEMPLATES: &[&[&str]] = &[
    &["namespace_mapping", "template"],
    &["config", "namespace_mapping", "template"],
    &["config", "namespace_config", "namespace_mapping", "template"],
    &["executor", "raw_config", "namespace_mapping", "template"],
    &["config", "operator", "org", "namespaceTemplate"],
    &["configmap", "namespace_config", "namespace_mapping", "template"],
];
/// Settings that hold a credential: committed, it is a leaked secret.
const SECRETS: &[&[&str]] = &[
    &["secrets", "admin", "clientSecret"],
    &["union", "secrets", "admin", "clientSecret"],
    &["storage", "accessKey"],
    &["storage", "secretKey"],
    &["storage", "custom", "stow", "config", "key"],
    &["storage", "custom", "stow", "config", "secret_key"],
    &["storage", "s3", "accessKey"],
    &["storage", "s3", "secretKey"],
    &["union", "storage", "s3", "accessKey"],
    &["union", "storage", "s3", "secretKey"],
    &["configuration", "storage", "providerConfig", "s3", "accessKey"],
    &["configuration", "storage", "providerConfig", "s3", "secretKey"],
    &["configuration", "storage", "providerConfig", "azure", "key"],
];
/// What a value that only stands in for a credential says: a test's or a
/// guide's dummy, or the well-known default of a local object store.
const DUMMY_CREDENTIAL_WORDS: &[&str] = &[
    "test",
    "example",
    "dummy",
    "fake",
    "not-real",
    "notreal",
    "changeme",
    "change-me",
    "placeholder",
    "redacted",
    "xxxx",
    "my-secret",
    "your-",
];
const LOCAL_STORE_DEFAULTS: &[&str] = &["minio", "minioadmin", "miniostorage", "rustfsadmin"];

/// Whether the literal `value` of setting `key` is a stand-in, not a
/// credential: a dummy word, the key's own name (`accessKey: accessKey`),
/// or a local object store's default login.
fn is_dummy_credential(key: &str, value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    DUMMY_CREDENTIAL_WORDS.iter().any(|word| value.contains(word))
        || value.eq_ignore_ascii_case(key)
        || LOCAL_STORE_DEFAULTS.contains(&value.as_str())
}

/// Keys that hold a bearer token wherever they are (the `_file` forms hold
/// a path, and are fine).
const TOKEN_KEYS: &[&str] = &["bearer_token", "bearerToken"];

/// The settings of a values document that rules check on their own, one
/// entity each, keyed by the setting's path: the control plane's host (with
/// its value), and every credential written as a literal (without its
/// value, which no output may show; a dummy is no credential). A host in `host` counts only in a
/// Union values document, where the chart reads it.
pub fn settings(root: &Node, source: SourceId, out: &mut Vec<Proto>) {
    let at_path = |path: &[&str]| path.iter().try_fold(root, |node, key| node.get(key));
    let literal = |node: &Node| {
        let text = match node.scalar()? {
            Scalar::String(s) => s.trim().to_string(),
            Scalar::Int(i) => i.to_string(),
            _ => return None,
        };
        (!text.is_empty() && !text.contains("{{") && !is_placeholder(&text)).then_some(text)
    };
    let union_values = is_values(root) || at_path(&["global", "CONTROLPLANE_HOST"]).is_some();
    // The document, so that one cluster's settings compare among themselves,
    // and its organization, so that its data planes' do.
    let document = Field::string(
        &format!("{}@{}", source.0, root.span.start),
        Location {
            source,
            span: root.span,
        },
    );
    let layers = [(root, source)];
    let organization = is_values(root)
        .then(|| Values::new(&layers).first(ORGANIZATION))
        .flatten();
    let mut push = |path: String, node: &Node, value: Option<&str>| {
        let location = Location {
            source,
            span: node.span,
        };
        let mut fields = vec![
            ("setting", Field::string(&path, location)),
            ("document", document.clone()),
        ];
        if let Some(organization) = &organization {
            fields.push(("organization", organization.clone()));
        }
        match value {
            Some(value) => fields.push(("value", Field::string(value, location))),
            None => fields.push((
                "secret",
                Field {
                    value: Value::Bool(true),
                    location,
                },
            )),
        }
        out.push(Proto {
            collection: Collection::Settings,
            key: Arc::from(path.as_str()),
            location,
            fields,
        });
    };
    for path in CONTROL_PLANE_HOSTS {
        if path == &["host"] && !union_values {
            continue;
        }
        if let Some(node) = at_path(path)
            && let Some(host) = literal(node)
        {
            push(path.join("."), node, Some(&host));
        }
    }
    for path in NAMESPACE_TEMPLATES {
        if let Some(node) = at_path(path)
            && let Some(text) = node.as_str().filter(|t| !t.trim().is_empty())
        {
            push(path.join("."), node, Some(&namespace_template(text)));
        }
    }
    let credential = |key: &str, node: &Node| literal(node).is_some_and(|value| !is_dummy_credential(key, &value));
    for path in SECRETS {
        if let Some(node) = at_path(path)
            && credential(path.last().copied().unwrap_or_default(), node)
        {
            push(path.join("."), node, None);
        }
    }
    let mut tokens = Vec::new();
    find_keys(root, TOKEN_KEYS, &mut String::new(), 0, &mut tokens);
    for (path, node) in tokens {
        let key = path.rsplit('.').next().unwrap_or_default();
        if credential(key, node) {
            push(path, node, None);
        }
    }
}

/// A namespace template as the component reads it: Helm's escape
/// (``{{`{{ project }}`}}``) rendered, and `{{project}}` written as
/// `{{ project }}`, so that templates compare by what they map to.
fn namespace_template(text: &str) -> String {
    let rendered = text.replace("{{`", "").replace("`}}", "");
    let mut out = String::with_capacity(rendered.len());
    let mut rest = rendered.trim();
    while let Some(open) = rest.find("{{") {
        out.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 2..).unwrap_or_default();
        let Some(close) = after.find("}}") else {
            out.push_str(rest.get(open..).unwrap_or_default());
            return out;
        };
        out.push_str("{{ ");
        out.push_str(after.get(..close).unwrap_or_default().trim());
        out.push_str(" }}");
        rest = after.get(close + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// How deep `find_keys` looks.
const KEY_SEARCH_DEPTH: usize = 12;

/// Every value under one of `keys`, with its path (`a.b[0].c`).
fn find_keys<'n>(node: &'n Node, keys: &[&str], path: &mut String, depth: usize, out: &mut Vec<(String, &'n Node)>) {
    if depth >= KEY_SEARCH_DEPTH {
        return;
    }
    let length = path.len();
    if let Some(items) = node.as_sequence() {
        for (at, item) in items.iter().enumerate() {
            path.push_str(&format!("[{at}]"));
            find_keys(item, keys, path, depth + 1, out);
            path.truncate(length);
        }
        return;
    }
    for entry in node.as_mapping().unwrap_or_default() {
        let Some(key) = entry.key.as_str() else {
            continue;
        };
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        if keys.contains(&key) {
            out.push((path.clone(), &entry.value));
        } else {
            find_keys(&entry.value, keys, path, depth + 1, out);
        }
        path.truncate(length);
    }
}

/// Whether `text` is a template's stand-in rather than a value: `<NAME>`,
/// Terraform's or envsubst's `${name}`, or an IAM ARN (of any AWS
/// partition) whose account is not a twelve-digit number
/// (`arn:aws:iam::ACCOUNT_ID:role/...`).
pub(super) fn is_placeholder(text: &str) -> bool {
    let bracketed = text
        .find('<')
        .is_some_and(|open| text.get(open..).is_some_and(|rest| rest.contains('>')));
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let arn_account = matches!(parts.as_slice(), ["arn", partition, "iam", _, account, _]
        if partition.starts_with("aws") && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())));
    bracketed || text.contains("${") || arn_account
}

/// References one file (or layer group) may follow, all its lookups
/// together: real values follow a few dozen; a file whose references fan out
/// at every level would otherwise take exponential time.
const MAX_REFERENCE_STEPS: usize = 10_000;
/// The longest value references may build.
const MAX_RESOLVED_BYTES: usize = 64 << 10;

/// Values files in layering order.
struct Values<'a> {
    layers: &'a [(&'a Node, SourceId)],
    /// Reference steps left.
    steps: Cell<usize>,
    /// The first reference not followed (over a bound, or a cycle): one
    /// `input-limit` finding per file is enough to say the values were not
    /// fully read.
    problem: RefCell<Option<Diagnostic>>,
}

impl<'a> Values<'a> {
    fn new(layers: &'a [(&'a Node, SourceId)]) -> Values<'a> {
        Values {
            layers,
            steps: Cell::new(MAX_REFERENCE_STEPS),
            problem: RefCell::new(None),
        }
    }

    /// Records why the reference at `location` was not followed.
    fn stop(&self, location: Location, why: String) {
        let mut problem = self.problem.borrow_mut();
        if problem.is_none() {
            *problem = Some(Diagnostic::error(
                INPUT_LIMIT,
                format!("{why}; the values that use it were not read"),
                location,
            ));
        }
    }
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

    /// The entry of the last layer that sets `path`: its key, to point at.
    fn key(&self, path: &[&str]) -> Option<(&Entry, SourceId)> {
        let (last, parents) = path.split_last()?;
        self.layers.iter().rev().find_map(|(root, source)| {
            let parent = parents.iter().try_fold(*root, |node, key| node.get(key))?;
            let entry = parent.as_mapping()?.iter().find(|e| e.key.as_str() == Some(last))?;
            Some((entry, *source))
        })
    }

    /// The non-empty string at `path`, references resolved, located at the
    /// value that was finally used; a placeholder is no value.
    fn field(&self, path: &[&str]) -> Option<Field> {
        let (node, source) = self.node(path)?;
        // The legacy chart is a subchart: its `.Values` is the `union` map.
        let scope: &[&str] = if path.first() == Some(&"union") {
            &["union"]
        } else {
            &[]
        };
        self.resolve(node, source, scope, &mut Vec::new())
            .filter(|field| !field.as_str().is_some_and(is_placeholder))
    }

    /// The value of the first of `paths` that has one.
    fn first(&self, paths: &[&[&str]]) -> Option<Field> {
        paths.iter().find_map(|path| self.field(path))
    }

    /// `node`'s value with its references substituted; `chain` holds the
    /// references being followed, to stop at a cycle.
    fn resolve(&self, node: &Node, source: SourceId, scope: &[&str], chain: &mut Vec<String>) -> Option<Field> {
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
        if chain.len() >= MAX_RESOLUTION_DEPTH {
            self.stop(
                location,
                format!("references nest more than {MAX_RESOLUTION_DEPTH} deep here"),
            );
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
            let written = after.get(..close)?;
            let path = reference(written)?;
            let steps = self.steps.get();
            if steps == 0 {
                self.stop(
                    location,
                    format!("the values' references take more than {MAX_REFERENCE_STEPS} steps"),
                );
                return None;
            }
            self.steps.set(steps - 1);
            let (target, target_source) = self.node(&[scope, &path].concat()).or_else(|| self.node(&path))?;
            let key = path.join(".");
            if chain.contains(&key) {
                self.stop(
                    location,
                    format!("the reference to .Values.{key} refers back to itself"),
                );
                return None;
            }
            chain.push(key);
            let value = self.resolve(target, target_source, scope, chain);
            chain.pop();
            let value = value?;
            resolved.push_str(value.as_str()?);
            if resolved.len() > MAX_RESOLVED_BYTES {
                self.stop(
                    location,
                    format!("the values' references build a value over {MAX_RESOLVED_BYTES} bytes"),
                );
                return None;
            }
            used = Some(value.location);
            rest = after.get(close + 2..)?;
        }
        resolved.push_str(rest);
        let resolved = resolved.trim();
        (!resolved.is_empty()).then(|| Field::string(resolved, used.unwrap_or(location)))
    }
}

/// The path of `.Values.a.b` in `.Values.a.b`, `tpl .Values.a.b .` (or `$`)
/// and `tpl (.Values.a.b | toString) .`.
fn reference(expression: &str) -> Option<Vec<&str>> {
    let words: Vec<&str> = expression.trim().trim_matches('-').split_whitespace().collect();
    let path = match words.as_slice() {
        [path] => *path,
        ["tpl", path, "." | "$"] => *path,
        ["tpl", path, "|", "toString)", "." | "$"] => path.strip_prefix('(')?,
        _ => return None,
    };
    let path = path.strip_prefix(".Values.")?;
    let segments: Vec<&str> = path.split('.').collect();
    segments.iter().all(|s| !s.is_empty()).then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::{Collection, Layering, extract, is_placeholder, reference};
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
        let mut problems = Vec::new();
        let extracted = layering.extract(&files, &mut problems);
        assert!(problems.is_empty());
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
        assert_eq!(
            reference(" tpl (.Values.userRoleAnnotationValue | toString) $ "),
            Some(vec!["userRoleAnnotationValue"])
        );
        assert_eq!(reference(" include \"x\" . "), None);
        assert_eq!(reference(" .Release.Name "), None);
    }

    /// The fields of the one cluster `text` describes, as (name, value, line).
    fn cluster(text: &str) -> Vec<(&'static str, String, usize)> {
        let loaded = yaml::load(text, SourceId(0), yaml::Limits::default());
        let root = loaded.documents.into_iter().next().and_then(|d| d.root).unwrap();
        let mut out = Vec::new();
        extract(&[(&root, SourceId(0))], &mut out, &mut Vec::new());
        out.retain(|proto| proto.collection == Collection::Clusters);
        assert_eq!(out.len(), 1, "{text}");
        let line = |at: usize| text[..at].matches('\n').count() + 1;
        out[0]
            .fields
            .iter()
            .map(|(name, field)| {
                (
                    *name,
                    field.as_str().unwrap().to_string(),
                    line(field.location.span.start),
                )
            })
            .collect()
    }

    fn value<'a>(fields: &'a [(&'static str, String, usize)], name: &str) -> Option<(&'a str, usize)> {
        fields
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, v, line)| (v.as_str(), *line))
    }

    #[test]
    fn the_top_level_name_is_the_one_the_chart_uses() {
        let fields = cluster(
            "global: {CLUSTER_NAME: old-name, ORG_NAME: acme}\nclusterName: cw-east\norgName: acme-gpu\nstorage: {bucketName: m}\n",
        );
        assert_eq!(value(&fields, "name"), Some(("cw-east", 2)));
        assert_eq!(value(&fields, "organization"), Some(("acme-gpu", 3)));
        assert_eq!(value(&fields, "metadataBucket"), Some(("m", 4)));
    }

    #[test]
    fn the_legacy_chart_resolves_references_inside_union() {
        let fields = cluster(
            "union:\n  clusterName: legacy\n  storage:\n    type: gcs\n    bucketName: acme-meta\n    gcs: {projectId: acme-prod}\n  metadataBucketPrefix: 'gs://{{ tpl .Values.storage.bucketName $ }}'\n",
        );
        assert_eq!(value(&fields, "metadataBucket"), Some(("acme-meta", 5)));
        assert_eq!(value(&fields, "metadataBucketUri"), Some(("gs://acme-meta", 5)));
        assert_eq!(value(&fields, "provider"), Some(("gcp", 4)));
        assert_eq!(value(&fields, "storageProvider"), Some(("gcs", 4)));
        assert_eq!(value(&fields, "account"), Some(("acme-prod", 6)));
    }

    #[test]
    fn a_prefix_with_no_bucket_names_none_and_the_next_shape_is_read() {
        let fields = cluster(
            "global: {CLUSTER_NAME: c, METADATA_BUCKET: acme-meta}\nconfig: {operator: {clusterData: {metadataBucketPrefix: 's3://'}}}\n",
        );
        assert_eq!(value(&fields, "metadataBucket"), Some(("acme-meta", 1)));
    }

    #[test]
    fn placeholders_are_no_values() {
        for text in [
            "<CLUSTER_NAME>",
            "<ORG_NAME>.union.ai",
            "<App Id from uctl create app>",
            "${cluster_name}",
            "arn:aws:iam::ACCOUNT_ID:role/flyte_project_role",
            "arn:aws-us-gov:iam::ACCOUNT:role/x",
            "arn:aws:iam:::role/x",
        ] {
            assert!(is_placeholder(text), "{text}");
        }
        for text in [
            "eks-prod",
            "arn:aws:iam::123456789012:role/worker",
            "arn:aws-cn:iam::123456789012:role/worker",
            "a<b",
            "s3://acme/$prefix",
        ] {
            assert!(!is_placeholder(text), "{text}");
        }
        let fields = cluster("global: {CLUSTER_NAME: c, ORG_NAME: '<ORG_NAME>'}\nuserRoleAnnotationValue: ${role}\n");
        assert_eq!(value(&fields, "organization"), None);
        assert_eq!(value(&fields, "workerIdentity"), None);
    }

    #[test]
    fn a_flyte_deployment_is_the_cluster_its_propeller_names() {
        let fields = cluster(
            "storage:\n  type: gcs\n  bucketName: acme-meta\n  gcs: {projectId: acme-prod}\n  s3: {region: us-east-1}\nflytepropeller: {clusterName: gke-1}\n",
        );
        assert_eq!(value(&fields, "name"), Some(("gke-1", 6)));
        assert_eq!(value(&fields, "pool"), Some(("default", 6)));
        assert_eq!(value(&fields, "metadataBucket"), Some(("acme-meta", 3)));
        assert_eq!(value(&fields, "userDataBucket"), Some(("acme-meta", 3)));
        assert_eq!(value(&fields, "provider"), Some(("gcp", 2)));
        assert_eq!(value(&fields, "account"), Some(("acme-prod", 4)));
        // The s3 block is the chart's default for another provider.
        assert_eq!(value(&fields, "region"), None);
        let fields = cluster(
            "configuration:\n  storage:\n    provider: s3\n    metadataContainer: m\n    userDataContainer: 's3://d/raw'\n  inline: {propeller: {cluster-id: bin}}\n",
        );
        assert_eq!(value(&fields, "metadataBucket"), Some(("m", 4)));
        assert_eq!(value(&fields, "userDataBucket"), Some(("d", 5)));
        assert_eq!(value(&fields, "userDataBucketUri"), Some(("s3://d/raw", 5)));
    }

    #[test]
    fn a_flyte_deployment_naming_no_cluster_or_in_the_sandbox_is_none() {
        for text in [
            "storage: {type: s3, bucketName: my-s3-bucket}\nflytepropeller: {clusterName: ''}\n",
            "storage: {type: sandbox, bucketName: my-s3-bucket}\nflytepropeller: {clusterName: local}\n",
        ] {
            let loaded = yaml::load(text, SourceId(0), yaml::Limits::default());
            let root = loaded.documents.into_iter().next().and_then(|d| d.root).unwrap();
            let mut out = Vec::new();
            extract(&[(&root, SourceId(0))], &mut out, &mut Vec::new());
            assert!(out.is_empty(), "{text}");
        }
    }

    #[test]
    fn namespace_templates_compare_as_rendered() {
        use super::namespace_template;
        assert_eq!(
            namespace_template("test-{{`{{ project }}`}}-{{`{{domain}}`}}"),
            "test-{{ project }}-{{ domain }}"
        );
        assert_eq!(
            namespace_template(" {{project}}-{{ domain }} "),
            "{{ project }}-{{ domain }}"
        );
        assert_eq!(namespace_template("a-{{ open"), "a-{{ open");
    }
}
