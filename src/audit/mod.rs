//! Audit: the isolation layout of each organization as a person reads it,
//! the isolation matrix, the cluster pools and a diagram of units, accounts,
//! clusters, pools and buckets, with the findings that touch each. Rendered
//! as a self-contained HTML page, Markdown, or DOT / Mermaid text.
//! Imports `source`, `diagnostic` and `model`.

mod graph;
mod html;
mod json;
mod markdown;

pub use graph::{render_dot, render_mermaid};
pub use html::render_html;
pub use json::render_model_json;
pub use markdown::render_markdown;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Collection, Entity, Model, Value};
use crate::source::SourceMap;
use std::collections::BTreeMap;

/// Up to this many units, the matrix and the diagram show every row; past
/// it, per-domain counts and the rows with findings only.
pub const FULL_ROWS: usize = 200;

/// What the report is about: the run's models, findings and scope.
pub struct Audit<'a> {
    pub organizations: Vec<Organization>,
    pub findings: Vec<Finding<'a>>,
    pub files_scanned: usize,
    pub policies: usize,
    pub version: &'static str,
    /// When the report was made (UTC, RFC 3339).
    pub generated_at: String,
}

/// A finding as the report lists it: its number is its anchor.
pub struct Finding<'a> {
    pub number: usize,
    pub diagnostic: &'a Diagnostic,
    pub file: &'a str,
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Misrouted,
    Missing,
    Duplicate,
    Shared,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Misrouted => "misrouted",
            Status::Missing => "missing",
            Status::Duplicate => "placed twice",
            Status::Shared => "shared account",
        }
    }
}

/// One row of the isolation matrix: a unit and its placement.
pub struct Row {
    pub unit: String,
    pub domain: String,
    pub production: bool,
    pub account: Option<String>,
    pub provider: Option<String>,
    /// Where Flyte runs the unit's executions, when Flyte config routes them.
    pub runs_on: Option<String>,
    pub status: Status,
    pub findings: Vec<usize>,
}

pub struct ClusterView {
    pub name: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub bucket: Option<String>,
    pub findings: Vec<usize>,
}

pub struct PoolView {
    pub name: String,
    pub bucket: Option<String>,
    /// Whether a `ClusterPool` manifest declares it.
    pub declared: bool,
    pub clusters: Vec<ClusterView>,
    pub findings: Vec<usize>,
}

pub struct Organization {
    pub name: String,
    pub isolation: String,
    pub rows: Vec<Row>,
    pub pools: Vec<PoolView>,
    /// Whether Flyte config routes executions (the matrix says where).
    pub routed: bool,
}

impl Organization {
    /// (domain, units, with findings) for each domain, in row order.
    pub fn domain_counts(&self) -> Vec<(String, usize, usize)> {
        let mut counts: Vec<(String, usize, usize)> = Vec::new();
        for row in &self.rows {
            match counts.iter_mut().find(|(d, _, _)| *d == row.domain) {
                Some(entry) => {
                    entry.1 += 1;
                    entry.2 += usize::from(row.status != Status::Ok);
                }
                None => counts.push((row.domain.clone(), 1, usize::from(row.status != Status::Ok))),
            }
        }
        counts
    }

    /// Whether the pools have more clusters than a report lists in full.
    pub fn many_clusters(&self) -> bool {
        self.pools.iter().map(|p| p.clusters.len()).sum::<usize>() > FULL_ROWS
    }

    /// The clusters of a pool a report shows: all of them, or past
    /// [`FULL_ROWS`] clusters in all only the ones with findings.
    pub fn shown_clusters<'a>(&self, pool: &'a PoolView) -> impl Iterator<Item = &'a ClusterView> {
        let all = !self.many_clusters();
        pool.clusters.iter().filter(move |c| all || !c.findings.is_empty())
    }

    /// The rows a report shows: all of them, or past [`FULL_ROWS`] only the
    /// ones with findings.
    pub fn shown_rows(&self) -> impl Iterator<Item = &Row> {
        let all = self.rows.len() <= FULL_ROWS;
        self.rows.iter().filter(move |r| all || r.status != Status::Ok)
    }
}

/// A table cell, as both renderers show it.
pub enum Cell {
    Text(String),
    /// A name, shown as code, with a note after it (`(production)`).
    Code(String, &'static str),
    /// A value that is not set.
    Missing,
    Status(Status),
    /// Finding numbers, linked to the findings list.
    Findings(Vec<usize>),
}

/// A table of the report: its header and rows, each row marked when it has
/// findings. The renderers only choose the markup.
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<(Vec<Cell>, bool)>,
}

fn code_or_missing(text: Option<&String>) -> Cell {
    text.map_or(Cell::Missing, |t| Cell::Code(t.clone(), ""))
}

fn text_or_missing(text: Option<&String>) -> Cell {
    text.map_or(Cell::Missing, |t| Cell::Text(t.clone()))
}

impl Organization {
    /// Per-domain counts, when the matrix is too large to show in full.
    pub fn domain_table(&self) -> Option<Table> {
        (self.rows.len() > FULL_ROWS).then(|| Table {
            header: vec!["Domain", "Units", "With findings"],
            rows: self
                .domain_counts()
                .into_iter()
                .map(|(domain, units, bad)| {
                    (
                        vec![
                            Cell::Text(domain),
                            Cell::Text(units.to_string()),
                            Cell::Text(bad.to_string()),
                        ],
                        false,
                    )
                })
                .collect(),
        })
    }

    /// The isolation matrix: a unit per row, with its account and provider.
    pub fn matrix_table(&self) -> Table {
        let unit = if self.isolation == "project" {
            "Domain/Project"
        } else {
            "Domain"
        };
        let mut header = vec![unit, "Account", "Provider"];
        if self.routed {
            header.push("Runs on");
        }
        header.extend(["Status", "Findings"]);
        Table {
            header,
            rows: self
                .shown_rows()
                .map(|row| {
                    let note = if row.production { " (production)" } else { "" };
                    let mut cells = vec![
                        Cell::Code(row.unit.clone(), note),
                        code_or_missing(row.account.as_ref()),
                        text_or_missing(row.provider.as_ref()),
                    ];
                    if self.routed {
                        cells.push(text_or_missing(row.runs_on.as_ref()));
                    }
                    cells.push(Cell::Status(row.status));
                    cells.push(Cell::Findings(row.findings.clone()));
                    (cells, row.status != Status::Ok)
                })
                .collect(),
        }
    }

    /// Per-pool counts, when there are too many clusters to list.
    pub fn pool_summary_table(&self) -> Option<Table> {
        self.many_clusters().then(|| Table {
            header: vec!["Pool", "Metadata bucket", "Clusters", "With findings"],
            rows: self
                .pools
                .iter()
                .map(|pool| {
                    let bad = pool.clusters.iter().filter(|c| !c.findings.is_empty()).count();
                    let cells = vec![
                        Cell::Code(pool.name.clone(), ""),
                        code_or_missing(pool.bucket.as_ref()),
                        Cell::Text(pool.clusters.len().to_string()),
                        Cell::Text(bad.to_string()),
                    ];
                    (cells, false)
                })
                .collect(),
        })
    }

    /// The cluster pools: a cluster per row (a pool without clusters has a
    /// row of its own), with the pool's findings and the cluster's.
    pub fn pools_table(&self) -> Table {
        let mut rows = Vec::new();
        for pool in &self.pools {
            let name = || Cell::Code(pool.name.clone(), if pool.declared { "" } else { " (no manifest)" });
            if pool.clusters.is_empty() {
                let cells = vec![
                    name(),
                    code_or_missing(pool.bucket.as_ref()),
                    Cell::Missing,
                    Cell::Text(String::new()),
                    Cell::Text(String::new()),
                    Cell::Text(String::new()),
                    Cell::Findings(pool.findings.clone()),
                ];
                rows.push((cells, !pool.findings.is_empty()));
            }
            for cluster in self.shown_clusters(pool) {
                let mut numbers = pool.findings.clone();
                numbers.extend(&cluster.findings);
                let bad = !numbers.is_empty();
                let cells = vec![
                    name(),
                    code_or_missing(pool.bucket.as_ref()),
                    Cell::Code(cluster.name.clone(), ""),
                    text_or_missing(cluster.account.as_ref()),
                    text_or_missing(cluster.region.as_ref()),
                    code_or_missing(cluster.bucket.as_ref()),
                    Cell::Findings(numbers),
                ];
                rows.push((cells, bad));
            }
        }
        Table {
            header: vec![
                "Pool",
                "Metadata bucket",
                "Cluster",
                "Account",
                "Region",
                "Cluster bucket",
                "Findings",
            ],
            rows,
        }
    }
}

fn text(entity: &Entity, field: &str) -> Option<String> {
    match &entity.field(field)?.value {
        Value::String(s) => Some(s.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The numbers of the findings on each entity (`placements[staging/p2]`),
/// from their model paths.
fn by_entity(findings: &[Finding<'_>]) -> BTreeMap<String, Vec<usize>> {
    let mut index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for finding in findings {
        let Some(path) = finding.diagnostic.model_path.as_deref() else {
            continue;
        };
        if let Some(end) = path.find(']') {
            index
                .entry(path.get(..=end).unwrap_or(path).to_string())
                .or_default()
                .push(finding.number);
        }
    }
    index
}

/// The numbers of the findings on each entity, by its exact model path
/// (`clusterBlocks[clusters]#2`): for entities whose keys repeat.
fn by_exact_entity(findings: &[Finding<'_>]) -> BTreeMap<String, Vec<usize>> {
    let mut index: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for finding in findings {
        let Some(path) = finding.diagnostic.model_path.as_deref() else {
            continue;
        };
        let Some(end) = path.find(']') else {
            continue;
        };
        let rest = path.get(end + 1..).unwrap_or_default();
        let occurrence = rest
            .strip_prefix('#')
            .map_or(0, |n| 1 + n.bytes().take_while(u8::is_ascii_digit).count());
        index
            .entry(path.get(..end + 1 + occurrence).unwrap_or(path).to_string())
            .or_default()
            .push(finding.number);
    }
    index
}

/// One Flyte `clusters` block, as the matrix follows a unit through it.
struct Block<'m> {
    entity: &'m Entity,
    default_label: Option<String>,
    labels: Vec<String>,
    /// (label, cluster) of each route with a weight above zero.
    routes: Vec<(String, String)>,
    enabled: Vec<String>,
}

fn blocks(model: &Model) -> Vec<Block<'_>> {
    let group_of = |entity: &Entity| text(entity, "group").unwrap_or_default();
    model
        .collection(Collection::ClusterBlocks)
        .iter()
        .map(|block| {
            let group = group_of(block);
            let in_group = |collection| {
                model
                    .collection(collection)
                    .iter()
                    .filter(|e| group_of(e) == group)
                    .collect::<Vec<_>>()
            };
            let weight = |route: &Entity| match route.field("weight").map(|f| &f.value) {
                Some(Value::Number(weight)) => *weight,
                _ => 0.0,
            };
            Block {
                entity: block,
                default_label: text(block, "defaultExecutionLabel"),
                labels: in_group(Collection::Labels).iter().map(|l| l.key.to_string()).collect(),
                routes: in_group(Collection::Routes)
                    .iter()
                    .filter(|route| weight(route) > 0.0)
                    .filter_map(|route| Some((route.key.to_string(), text(route, "cluster")?)))
                    .collect(),
                enabled: in_group(Collection::FlyteClusters)
                    .iter()
                    .filter(|c| text(c, "enabled").as_deref() == Some("true"))
                    .map(|c| c.key.to_string())
                    .collect(),
            }
        })
        .collect()
}

/// Where the unit's executions run by each block (its own label if the
/// block maps it, else the block's default, else any enabled cluster), and
/// the findings on the routes, labels or block that take them there.
fn runs_on(
    unit: &Entity,
    blocks: &[Block<'_>],
    index: &BTreeMap<String, Vec<usize>>,
    exact: &BTreeMap<String, Vec<usize>>,
) -> (Option<String>, Vec<usize>) {
    let own = text(unit, "executionLabel");
    let mut places: Vec<String> = Vec::new();
    let mut numbers = Vec::new();
    for block in blocks {
        let label = own
            .clone()
            .filter(|label| block.labels.contains(label))
            .or_else(|| block.default_label.clone());
        let clusters: Vec<&str> = match &label {
            Some(label) => {
                numbers.extend(touching(
                    index,
                    &[
                        format!("routes[{label}]"),
                        format!("labels[{label}]"),
                        format!("executionLabels[{label}]"),
                    ],
                ));
                block
                    .routes
                    .iter()
                    .filter(|(route, _)| route == label)
                    .map(|(_, cluster)| cluster.as_str())
                    .collect()
            }
            None => {
                numbers.extend(exact.get(&block.entity.model_path()).into_iter().flatten());
                match block.enabled.as_slice() {
                    [only] => vec![only.as_str()],
                    [] => Vec::new(),
                    _ => vec!["any enabled cluster"],
                }
            }
        };
        for cluster in clusters {
            if !places.iter().any(|p| p == cluster) {
                places.push(cluster.to_string());
            }
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    ((!places.is_empty()).then(|| places.join(", ")), numbers)
}

fn touching(index: &BTreeMap<String, Vec<usize>>, entities: &[String]) -> Vec<usize> {
    let mut numbers: Vec<usize> = entities
        .iter()
        .filter_map(|e| index.get(e))
        .flatten()
        .copied()
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

fn status_of(findings: &[Finding<'_>], numbers: &[usize]) -> Status {
    let rules = numbers
        .iter()
        .filter_map(|n| findings.get(n.saturating_sub(1)))
        .map(|f| f.diagnostic.rule.as_str());
    rules
        .map(|rule| match rule {
            "placement-missing" => Status::Missing,
            "placement-duplicate" => Status::Duplicate,
            "placement-account-shared" | "production-shares-with-nonproduction" | "on-demand-default-account" => {
                Status::Shared
            }
            rule if rule.starts_with("routing-") => Status::Misrouted,
            _ => Status::Ok,
        })
        .max()
        .unwrap_or(Status::Ok)
}

fn organization(model: &Model, findings: &[Finding<'_>]) -> Organization {
    let isolation = model
        .collection(Collection::DataPlanes)
        .first()
        .and_then(|d| text(d, "isolation"))
        .unwrap_or_default();
    let index = by_entity(findings);
    let exact = by_exact_entity(findings);
    let blocks = blocks(model);
    let cluster_accounts: BTreeMap<&str, Option<String>> = model
        .collection(Collection::Clusters)
        .iter()
        .map(|cluster| (cluster.key.as_ref(), text(cluster, "account")))
        .collect();
    // The first placement of each unit.
    let mut placements: BTreeMap<&str, &Entity> = BTreeMap::new();
    for placement in model.collection(Collection::Placements) {
        placements.entry(placement.key.as_ref()).or_insert(placement);
    }
    let rows = model
        .collection(Collection::Units)
        .iter()
        .map(|unit| {
            let key = unit.key.to_string();
            let placement = placements.get(key.as_str()).copied();
            let mut numbers = touching(&index, &[format!("units[{key}]"), format!("placements[{key}]")]);
            let (runs_on, routing) = runs_on(unit, &blocks, &index, &exact);
            let account = placement.and_then(|p| text(p, "account"));
            // A label that sends some of its units to another account does
            // not concern those it sends to their own.
            let crosses = |clusters: &str| {
                clusters.split(", ").any(|cluster| {
                    cluster_accounts
                        .get(cluster)
                        .is_some_and(|a| a.is_some() && *a != account)
                })
            };
            numbers.extend(routing.into_iter().filter(|n| {
                let rule = findings.get(n.saturating_sub(1)).map(|f| f.diagnostic.rule.as_str());
                rule != Some("routing-account-mismatch") || runs_on.as_deref().is_some_and(crosses)
            }));
            numbers.sort_unstable();
            numbers.dedup();
            Row {
                domain: text(unit, "domain").unwrap_or_default(),
                production: text(unit, "production").as_deref() == Some("true"),
                account,
                provider: placement.and_then(|p| text(p, "provider")),
                runs_on,
                status: status_of(findings, &numbers),
                findings: numbers,
                unit: key,
            }
        })
        .collect();
    let mut pools: BTreeMap<String, PoolView> = BTreeMap::new();
    for pool in model.collection(Collection::Pools) {
        let name = pool.key.to_string();
        let numbers = touching(&index, &[format!("pools[{name}]")]);
        pools.entry(name.clone()).or_insert(PoolView {
            bucket: text(pool, "metadataBucket"),
            declared: true,
            clusters: Vec::new(),
            findings: numbers,
            name,
        });
    }
    for cluster in model.collection(Collection::Clusters) {
        let pool = text(cluster, "pool").unwrap_or_else(|| "default".into());
        let view = pools.entry(pool.clone()).or_insert(PoolView {
            name: pool,
            bucket: None,
            declared: false,
            clusters: Vec::new(),
            findings: Vec::new(),
        });
        view.clusters.push(ClusterView {
            name: cluster.key.to_string(),
            account: text(cluster, "account"),
            region: text(cluster, "region"),
            bucket: text(cluster, "metadataBucket"),
            findings: touching(&index, &[format!("clusters[{}]", cluster.key)]),
        });
    }
    Organization {
        name: model.name.as_deref().unwrap_or("(no DataPlane)").to_string(),
        isolation,
        rows,
        pools: pools.into_values().collect(),
        routed: !blocks.is_empty(),
    }
}

impl<'a> Audit<'a> {
    pub fn new(
        models: &[Model],
        diagnostics: &'a [Diagnostic],
        sources: &'a SourceMap,
        files_scanned: usize,
        policies: usize,
        generated_at: String,
    ) -> Audit<'a> {
        let findings: Vec<Finding<'a>> = diagnostics
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let file = sources.get(d.location.source);
                Finding {
                    number: i + 1,
                    diagnostic: d,
                    file: file.map_or("", |f| f.name.as_str()),
                    line: file.map_or(1, |f| f.line_col(d.location.span.start).line),
                }
            })
            .collect();
        let organizations = models
            .iter()
            .filter(|m| !m.collection(Collection::Units).is_empty() || !m.collection(Collection::Clusters).is_empty())
            .map(|m| organization(m, &findings))
            .collect();
        Audit {
            organizations,
            findings,
            files_scanned,
            policies,
            version: env!("CARGO_PKG_VERSION"),
            generated_at,
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.diagnostic.severity == severity)
            .count()
    }

    /// The findings grouped by rule, rules sorted by id.
    pub fn by_rule(&self) -> Vec<(&str, Vec<&Finding<'a>>)> {
        let mut groups: BTreeMap<&str, Vec<&Finding<'a>>> = BTreeMap::new();
        for finding in &self.findings {
            groups
                .entry(finding.diagnostic.rule.as_str())
                .or_default()
                .push(finding);
        }
        groups.into_iter().collect()
    }
}

/// A UTC time as RFC 3339, from seconds since the Unix epoch.
pub fn rfc3339(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let rest = seconds % 86_400;
    let date = crate::date::Date::from_days_since_epoch(days);
    format!("{date}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_from_epoch_seconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
