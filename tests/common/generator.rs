//! Generates data-plane config repos of any size with a known number of
//! findings per rule, for the tests, the benchmarks and
//! `cargo run --example generate`. Deterministic for a given [`Spec`].
//!
//! A repo is `dataplane.yaml` (the isolation table), `pools/*.yaml`,
//! `clusters/group-NNN/*.yaml` (a hundred clusters a directory), a
//! `.planelint.yaml` that makes it a config root of its own, and
//! `expected.json`: for each rule planted, how many findings a correct run
//! reports. No other rule fires: every document is valid, every cluster's
//! pool exists, and production units share nothing with the others (except
//! with `one_account`, where every placement uses the same account and only
//! the `placement-account-shared` count is meant to be compared).
//!
//! Counts are worked out the way the rules count, on the rows as written:
//! "earlier" is file order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

pub const DOMAINS: [&str; 3] = ["development", "staging", "production"];

/// The rules a generated repo plants findings of.
pub const RULES: [&str; 5] = [
    "placement-account-shared",
    "placement-duplicate",
    "placement-missing",
    "pool-metadata-bucket-mismatch",
    "pool-metadata-bucket-shared",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    Project,
    Domain,
}

/// The knobs of a generated repo.
#[derive(Clone, Debug)]
pub struct Spec {
    pub projects: usize,
    pub clusters: usize,
    pub pools: usize,
    pub seed: u64,
    /// How many findings of each rule to plant (fewer when the repo is too
    /// small to hold them).
    pub violations: usize,
    pub isolation: Isolation,
    /// Every placement on one account.
    pub one_account: bool,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            projects: 100,
            clusters: 60,
            pools: 6,
            seed: 1,
            violations: 5,
            isolation: Isolation::Project,
            one_account: false,
        }
    }
}

impl Spec {
    /// A spec from command-line style arguments: `--projects N`,
    /// `--clusters N`, `--pools N`, `--seed N`, `--violations N`,
    /// `--isolation project|domain`, `--one-account`.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Spec, String> {
        let mut spec = Spec::default();
        let mut args = args.iter().map(AsRef::as_ref);
        while let Some(flag) = args.next() {
            if flag == "--one-account" {
                spec.one_account = true;
                continue;
            }
            let value = args.next().ok_or_else(|| format!("{flag} takes a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{flag} takes a number, not `{value}`"))
            };
            let count = || number().and_then(|n| usize::try_from(n).map_err(|e| e.to_string()));
            match flag {
                "--projects" => spec.projects = count()?,
                "--clusters" => spec.clusters = count()?,
                "--pools" => spec.pools = count()?.max(1),
                "--seed" => spec.seed = number()?,
                "--violations" => spec.violations = count()?,
                "--isolation" => {
                    spec.isolation = match value {
                        "project" => Isolation::Project,
                        "domain" => Isolation::Domain,
                        _ => return Err(format!("--isolation is project or domain, not `{value}`")),
                    }
                }
                _ => return Err(format!("unknown option `{flag}`")),
            }
        }
        Ok(spec)
    }
}

/// SplitMix64: small, fast and the same everywhere.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `k` distinct numbers of `range`, in the order drawn.
    fn sample(&mut self, range: std::ops::Range<usize>, k: usize) -> Vec<usize> {
        let mut pool: Vec<usize> = range.collect();
        let k = k.min(pool.len());
        for i in 0..k {
            let j = i + self.below(pool.len() - i);
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool
    }
}

struct Row {
    domain: &'static str,
    project: Option<String>,
    provider: &'static str,
    account: String,
}

fn provider_of(domain: &str) -> &'static str {
    if domain == "production" { "aws" } else { "gcp" }
}

fn account_kind(provider: &str) -> &'static str {
    if provider == "aws" {
        "aws-subaccount"
    } else {
        "gcp-project"
    }
}

/// Writes the repo of `spec` into `dir` and returns its expected counts
/// (also written to `dir/expected.json`).
pub fn generate(dir: &Path, spec: &Spec) -> io::Result<BTreeMap<&'static str, usize>> {
    let mut random = Random(spec.seed);
    let v = spec.violations;
    let mut expected: BTreeMap<&'static str, usize> = RULES.iter().map(|rule| (*rule, 0)).collect();
    let mut count = |rule: &'static str, n: usize| {
        if let Some(total) = expected.get_mut(rule) {
            *total += n;
        }
    };
    std::fs::create_dir_all(dir.join("pools"))?;

    let projects: Vec<String> = (1..=spec.projects).map(|i| format!("project-{i}")).collect();
    let units: Vec<(&'static str, Option<&String>)> = match spec.isolation {
        Isolation::Project => DOMAINS
            .iter()
            .flat_map(|d| projects.iter().map(move |p| (*d, Some(p))))
            .collect(),
        Isolation::Domain => DOMAINS.iter().map(|d| (*d, None)).collect(),
    };
    // Units left without a placement: never the first, so that one remains.
    let missing_wanted = match spec.isolation {
        Isolation::Project => v.min(units.len().saturating_sub(2)),
        Isolation::Domain => v.min(1),
    };
    let missing: HashSet<usize> = random.sample(1..units.len(), missing_wanted).into_iter().collect();
    count("placement-missing", missing.len());
    let mut rows: Vec<Row> = units
        .iter()
        .enumerate()
        .filter(|(i, _)| !missing.contains(i))
        .map(|(_, (domain, project))| {
            let provider = provider_of(domain);
            let tail = project.map_or_else(|| (*domain).to_string(), |p| format!("{domain}-{p}"));
            Row {
                domain,
                project: project.cloned(),
                provider,
                account: format!("{}-union-{tail}", account_kind(provider)),
            }
        })
        .collect();
    // Placements given the account of an earlier placement of the same
    // production class (sharing across classes is another rule).
    if rows.len() > 2 * v + 1 {
        for target in random.sample(1..rows.len(), v) {
            let production = rows[target].domain == "production";
            let same: Vec<usize> = (0..target)
                .filter(|&i| (rows[i].domain == "production") == production)
                .collect();
            if same.is_empty() {
                continue;
            }
            let source = same[random.below(same.len())];
            rows[target].account = rows[source].account.clone();
            rows[target].provider = rows[source].provider;
        }
    }
    // A unit placed again, on a fresh account of its own.
    if spec.isolation == Isolation::Project && !rows.is_empty() {
        for k in 0..v {
            let again = &rows[random.below(rows.len())];
            let row = Row {
                domain: again.domain,
                project: again.project.clone(),
                provider: again.provider,
                account: format!("{}-union-extra-{k}", account_kind(again.provider)),
            };
            rows.push(row);
            count("placement-duplicate", 1);
        }
    }
    if spec.one_account {
        for row in &mut rows {
            row.account = "shared-account".into();
        }
    }
    // A placement shares when an earlier placement of another unit has its account.
    let mut units_of: HashMap<&str, Vec<(&str, Option<&str>)>> = HashMap::new();
    let mut shared = 0;
    for row in &rows {
        let unit = (row.domain, row.project.as_deref());
        let earlier = units_of.entry(row.account.as_str()).or_default();
        if earlier.iter().any(|u| *u != unit) {
            shared += 1;
        }
        if !earlier.contains(&unit) {
            earlier.push(unit);
        }
    }
    count("placement-account-shared", shared);

    let mut plane = String::from("apiVersion: planelint/v1\nkind: DataPlane\nmetadata:\n  name: acme\nspec:\n");
    let isolation = match spec.isolation {
        Isolation::Project => "project",
        Isolation::Domain => "domain",
    };
    let _ = write!(plane, "  isolation: {isolation}\n  providers: mixed\n  domains:\n");
    for domain in DOMAINS {
        let _ = writeln!(plane, "    - name: {domain}");
        if domain == "production" {
            plane.push_str("      production: true\n");
        }
    }
    if spec.isolation == Isolation::Project {
        plane.push_str("  projects:\n");
        for project in &projects {
            let _ = writeln!(plane, "    - {project}");
        }
        plane.push_str(
            "  onDemandProjects:\n    enabled: true\n    defaultAccount: {provider: gcp, id: gcp-project-union-default}\n",
        );
    }
    plane.push_str("  placements:\n");
    for row in &rows {
        let project = row
            .project
            .as_ref()
            .map_or_else(String::new, |p| format!(", project: {p}"));
        let _ = writeln!(
            plane,
            "    - {{domain: {}{project}, provider: {}, account: {}}}",
            row.domain, row.provider, row.account
        );
    }
    std::fs::write(dir.join("dataplane.yaml"), plane)?;

    let pools: Vec<String> = (0..spec.pools.max(1)).map(|i| format!("pool-{i:04}")).collect();
    let mut bucket: Vec<String> = pools.iter().map(|p| format!("s3://acme-{p}-metadata")).collect();
    // Pools that declare the bucket of an earlier pool; their clusters follow.
    let mut sharing = random.sample(1..pools.len(), v);
    sharing.sort_unstable();
    for i in sharing {
        bucket[i] = bucket[random.below(i)].clone();
    }
    let distinct: HashSet<&String> = bucket.iter().collect();
    count("pool-metadata-bucket-shared", pools.len() - distinct.len());
    for (pool, bucket) in pools.iter().zip(&bucket) {
        let text = format!(
            "apiVersion: planelint/v1\nkind: ClusterPool\nmetadata:\n  name: {pool}\nspec:\n  metadataBucket: {bucket}\n"
        );
        std::fs::write(dir.join("pools").join(format!("{pool}.yaml")), text)?;
    }

    let stray: HashSet<usize> = random.sample(0..spec.clusters, v).into_iter().collect();
    count("pool-metadata-bucket-mismatch", stray.len());
    const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];
    for c in 0..spec.clusters {
        let pool = c % pools.len();
        let group = dir.join("clusters").join(format!("group-{:03}", c / 100));
        if c % 100 == 0 {
            std::fs::create_dir_all(&group)?;
        }
        let name = format!("cluster-{c:05}");
        let metadata_bucket = if stray.contains(&c) {
            format!("s3://acme-{name}-stray-metadata")
        } else {
            bucket[pool].clone()
        };
        let region = REGIONS[random.below(REGIONS.len())];
        let tier = if c % 3 == 0 { "prod" } else { "nonprod" };
        let text = format!(
            "apiVersion: planelint/v1\nkind: Cluster\nmetadata:\n  name: {name}\n  labels:\n    team: team-{}\n    tier: {tier}\n\
             spec:\n  pool: {}\n  provider: aws\n  account: \"{}\"\n  region: {region}\n  metadataBucket: {metadata_bucket}\n",
            c % 17,
            pools[pool],
            100_000_000_000u64 + c as u64,
        );
        std::fs::write(group.join(format!("{name}.yaml")), text)?;
    }

    std::fs::write(
        dir.join(".planelint.yaml"),
        "# A generated config repo: a root of its own.\n",
    )?;
    let mut json = String::from("{\n");
    let last = expected.len().saturating_sub(1);
    for (i, (rule, n)) in expected.iter().enumerate() {
        let _ = writeln!(json, "  \"{rule}\": {n}{}", if i == last { "" } else { "," });
    }
    json.push_str("}\n");
    std::fs::write(dir.join("expected.json"), json)?;
    Ok(expected)
}
