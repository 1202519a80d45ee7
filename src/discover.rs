//! Discover: walk the given paths and return the YAML files to lint, sorted
//! and without duplicates. Respects `.gitignore`, skips `.git`, `target` and
//! `node_modules`, never follows a symlink unless asked, and then never out
//! of the root. Only regular files are returned (a FIFO is never opened).
//! Imports no other module of the crate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// The path as shown: relative to the working directory when below it,
    /// with `/` separators.
    pub name: String,
}

/// A path that could not be walked or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub found: Found,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<Found>,
    pub unreadable: Vec<Unreadable>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
}

pub fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// The name a path is shown under.
pub fn display_name(path: &Path, cwd: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    let shown = shown.strip_prefix("./").unwrap_or(shown);
    let text = shown.to_string_lossy().replace('\\', "/");
    if text.is_empty() { ".".to_string() } else { text }
}

/// The file that marks the root of a planelint config repo.
pub const CONFIG_FILE: &str = ".planelint.yaml";

/// The nearest directory at or above `dir` that holds a `.git` entry (a
/// directory, or a file in a worktree or submodule).
pub fn git_top_level(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join(".git").exists()).map(Path::to_path_buf)
}

/// The deepest directory that holds every one of `paths` (absolute); a file
/// counts by its parent directory.
pub fn common_directory(paths: &[PathBuf]) -> Option<PathBuf> {
    let mut dirs = paths.iter().map(|p| {
        if p.is_dir() {
            p.as_path()
        } else {
            p.parent().unwrap_or(p)
        }
    });
    let mut common = dirs.next()?.to_path_buf();
    for dir in dirs {
        while !dir.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    Some(common)
}

/// The config repo that `files` (absolute) belong to: the nearest directory
/// holding `.planelint.yaml` at or above their common directory, else the git
/// top level, else the common directory itself. Cross-file rules need all of
/// it, even when only some files are named (as pre-commit does).
pub fn config_root(files: &[PathBuf]) -> Option<PathBuf> {
    let common = common_directory(files)?;
    let marked = common.ancestors().find(|d| d.join(CONFIG_FILE).is_file());
    Some(
        marked
            .map(Path::to_path_buf)
            .or_else(|| git_top_level(&common))
            .unwrap_or(common),
    )
}

pub fn discover(paths: &[PathBuf], follow_symlinks: bool, cwd: &Path) -> Result<Discovered, DiscoverError> {
    // Keyed by canonical path, so a file reached twice is scanned once.
    let mut files: BTreeMap<PathBuf, Found> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for root in paths {
        let absolute = if root.is_absolute() {
            root.clone()
        } else {
            cwd.join(root)
        };
        let metadata = std::fs::symlink_metadata(&absolute).map_err(|_| DiscoverError::Missing(root.clone()))?;
        let found = |path: &Path| Found {
            path: path.to_path_buf(),
            name: display_name(path, cwd),
        };
        if !metadata.is_dir() {
            // A file named on the command line is linted whatever its name.
            let target = std::fs::metadata(&absolute).map_err(|_| DiscoverError::Missing(root.clone()))?;
            if target.is_file() {
                let key = std::fs::canonicalize(&absolute).unwrap_or_else(|_| absolute.clone());
                files.entry(key).or_insert_with(|| found(&absolute));
            }
            continue;
        }
        let canonical_root = std::fs::canonicalize(&absolute).unwrap_or_else(|_| absolute.clone());
        let walker = ignore::WalkBuilder::new(&absolute)
            .follow_links(follow_symlinks)
            .require_git(false)
            .filter_entry(|entry| {
                !(entry.file_type().is_some_and(|t| t.is_dir())
                    && entry.file_name().to_str().is_some_and(|n| SKIPPED_DIRS.contains(&n)))
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error_path(&error).unwrap_or_else(|| absolute.clone());
                    if is_yaml(&path) || path.is_dir() || error.is_io() {
                        unreadable.push(Unreadable {
                            found: found(&path),
                            reason: io_reason(&error),
                        });
                    }
                    continue;
                }
            };
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if !is_file || !is_yaml(entry.path()) {
                continue;
            }
            let path = entry.path();
            // Without following links, a walked path is the root's real path
            // plus real names: no need to ask the file system (which costs
            // several system calls per file) for its canonical form.
            let canonical = if follow_symlinks {
                let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                if !canonical.starts_with(&canonical_root) {
                    continue;
                }
                canonical
            } else {
                match path.strip_prefix(&absolute) {
                    Ok(relative) => canonical_root.join(relative),
                    Err(_) => path.to_path_buf(),
                }
            };
            files.entry(canonical).or_insert_with(|| found(path));
        }
    }
    let mut files: Vec<Found> = files.into_values().collect();
    files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    files.dedup_by(|a, b| a.name == b.name);
    unreadable.sort_by(|a, b| a.found.name.cmp(&b.found.name));
    unreadable.dedup();
    Ok(Discovered { files, unreadable })
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn io_reason(error: &ignore::Error) -> String {
    match error {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => io_reason(err),
        ignore::Error::Loop { ancestor, .. } => format!("symlink loop back to {}", ancestor.display()),
        ignore::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
