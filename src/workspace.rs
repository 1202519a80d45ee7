//! Workspace: the config roots that the paths given to a run belong to, and
//! which findings the run reports. The model of a root is built from the
//! whole root wherever planelint runs and whatever part of it is named: the
//! paths given only choose which findings are shown. Imports `discover`.

use crate::discover::{self, CONFIG_FILE, DiscoverError, Found};
use std::path::{Path, PathBuf};

/// How the roots of a run are found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootRule {
    /// The paths are the whole repo: their common directory is the one root
    /// (a fixture repo of `planelint test`).
    #[default]
    AsGiven,
    /// Each path belongs to the nearest directory at or above it holding
    /// `.planelint.yaml`, else to its git top level, else it is a root
    /// itself; a `.planelint.yaml` below a root starts a root of its own.
    Find,
}

/// A config root: a directory whose files make models together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// Canonical.
    pub dir: PathBuf,
    /// Its `.planelint.yaml`, if it has one.
    pub config: Option<PathBuf>,
}

/// The roots of a run and the paths it reports on.
#[derive(Debug, Default)]
pub struct Plan {
    /// Sorted, none inside another: each is walked once.
    pub walked: Vec<Root>,
    /// The files named on the command line (absolute), linted whatever their
    /// name and whether or not an ignore file matches them.
    pub named: Vec<PathBuf>,
    /// The paths given, canonical: a finding is shown when its file, or a
    /// file it relates to, is one of them or below one.
    scopes: Vec<PathBuf>,
    /// Every path given is a root walked: every finding is shown.
    whole: bool,
}

impl Plan {
    /// Whether findings in the file at `path` (absolute, as walked) are shown.
    pub fn shows(&self, path: &Path) -> bool {
        self.whole || self.scopes.iter().any(|scope| path.starts_with(scope))
    }

    /// The paths to walk: the roots, the directories named below them (a
    /// directory that the walk of its root does not enter, such as one below
    /// `target/`, is walked when named), then the files named.
    pub fn walk_paths(&self) -> Vec<PathBuf> {
        let named_dirs = self
            .scopes
            .iter()
            .filter(|scope| scope.is_dir() && !self.walked.iter().any(|root| root.dir == **scope));
        self.walked
            .iter()
            .map(|root| &root.dir)
            .chain(named_dirs)
            .chain(&self.named)
            .cloned()
            .collect()
    }

    /// Splits the files found into their roots: a `.planelint.yaml` found
    /// below a walked root starts a root of its own (with [`RootRule::Find`])
    /// and owns the files below it. Config files are taken out of the files.
    /// Each root's files keep their order; roots come in path order.
    pub fn split(&self, files: Vec<Found>, rule: RootRule) -> Vec<(Root, Vec<Found>)> {
        let mut roots: Vec<Root> = self.walked.clone();
        let is_config = |found: &Found| found.path.file_name().is_some_and(|n| n == CONFIG_FILE);
        if rule == RootRule::Find {
            for found in files.iter().filter(|f| is_config(f)) {
                let Some(dir) = found.path.parent() else {
                    continue;
                };
                if !roots.iter().any(|root| root.dir == dir) {
                    roots.push(Root {
                        dir: dir.to_path_buf(),
                        config: Some(found.path.clone()),
                    });
                }
            }
        }
        roots.sort_by(|a, b| a.dir.cmp(&b.dir));
        let mut split: Vec<(Root, Vec<Found>)> = roots.into_iter().map(|root| (root, Vec::new())).collect();
        for found in files.into_iter().filter(|f| !is_config(f)) {
            // The deepest root holding the file: roots are sorted, so the
            // last one that is a prefix.
            let owner = split
                .iter_mut()
                .rev()
                .find(|(root, _)| found.path.starts_with(&root.dir));
            if let Some((_, owned)) = owner {
                owned.push(found);
            }
        }
        split
    }
}

/// The roots of `paths` (relative to `cwd`) under `rule`.
pub fn plan(paths: &[PathBuf], cwd: &Path, rule: RootRule) -> Result<Plan, DiscoverError> {
    let mut scopes = Vec::with_capacity(paths.len());
    let mut named = Vec::new();
    for path in paths {
        let absolute = cwd.join(path);
        let canonical = std::fs::canonicalize(&absolute).map_err(|_| DiscoverError::Missing(path.clone()))?;
        if !canonical.is_dir() {
            named.push(absolute);
        }
        scopes.push(canonical);
    }
    let start = |scope: &PathBuf| {
        if scope.is_dir() {
            scope.clone()
        } else {
            scope.parent().map_or_else(|| scope.clone(), Path::to_path_buf)
        }
    };
    let mut roots: Vec<PathBuf> = match rule {
        RootRule::AsGiven => discover::common_directory(&scopes.iter().map(start).collect::<Vec<_>>())
            .into_iter()
            .collect(),
        RootRule::Find => scopes
            .iter()
            .map(|scope| {
                let start = start(scope);
                discover::config_dir(&start)
                    .map(Path::to_path_buf)
                    .or_else(|| discover::git_top_level(&start))
                    .unwrap_or(start)
            })
            .collect(),
    };
    roots.sort();
    roots.dedup();
    // A root inside another is walked with it (and split off again when it
    // has a config file of its own).
    let outer: Vec<PathBuf> = roots
        .iter()
        .filter(|root| !roots.iter().any(|other| other != *root && root.starts_with(other)))
        .cloned()
        .collect();
    let whole = scopes.iter().all(|scope| outer.contains(scope));
    let walked = outer
        .into_iter()
        .map(|dir| {
            let config = dir.join(CONFIG_FILE);
            Root {
                config: (rule == RootRule::Find && config.is_file()).then_some(config),
                dir,
            }
        })
        .collect();
    Ok(Plan {
        walked,
        named,
        scopes,
        whole,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temporary directory");
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("directory");
            std::fs::write(path, "").expect("file");
        }
        dir
    }

    #[test]
    fn a_path_below_a_config_root_is_walked_from_the_root_and_alone_shown() {
        let dir = tree(&["repo/.planelint.yaml", "repo/clusters/c.yaml", "repo/pools/p.yaml"]);
        let repo = std::fs::canonicalize(dir.path().join("repo")).expect("canonical");
        let plan = plan(&[PathBuf::from("clusters")], &repo, RootRule::Find).expect("plan");
        assert_eq!(
            plan.walked,
            vec![Root {
                dir: repo.clone(),
                config: Some(repo.join(CONFIG_FILE))
            }]
        );
        assert!(plan.shows(&repo.join("clusters/c.yaml")));
        assert!(!plan.shows(&repo.join("pools/p.yaml")));
        let whole = super::plan(&[PathBuf::from(".")], &repo.join("clusters"), RootRule::Find).expect("plan");
        assert_eq!(whole.walked.len(), 1);
        assert!(
            !whole.shows(&repo.join("pools/p.yaml")),
            "`.` from clusters/ is clusters/ only"
        );
        let as_given = super::plan(&[PathBuf::from("clusters")], &repo, RootRule::AsGiven).expect("plan");
        assert_eq!(as_given.walked[0].dir, repo.join("clusters"));
        assert!(
            as_given.shows(&repo.join("pools/p.yaml")),
            "the root given is all shown"
        );
    }

    #[test]
    fn a_config_below_a_walked_root_starts_a_root_that_owns_its_files() {
        let dir = tree(&["a/.planelint.yaml", "a/x.yaml", "b/y.yaml", "top.yaml"]);
        let top = std::fs::canonicalize(dir.path()).expect("canonical");
        let plan = plan(&[PathBuf::from(".")], &top, RootRule::Find).expect("plan");
        let found = |name: &str| Found {
            path: top.join(name),
            name: name.to_string(),
        };
        let files = vec![
            found("a/.planelint.yaml"),
            found("a/x.yaml"),
            found("b/y.yaml"),
            found("top.yaml"),
        ];
        let split = plan.split(files, RootRule::Find);
        let shape: Vec<(PathBuf, Vec<&str>)> = split
            .iter()
            .map(|(root, files)| (root.dir.clone(), files.iter().map(|f| f.name.as_str()).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (top.clone(), vec!["b/y.yaml", "top.yaml"]),
                (top.join("a"), vec!["a/x.yaml"])
            ]
        );
        assert_eq!(split[1].0.config, Some(top.join("a/.planelint.yaml")));
    }
}
