//! Discover: walk the given paths and return the YAML files to lint, sorted
//! and each once, and every YAML file left out with the reason. Hidden files
//! are walked; only [`EXCLUDED_DIRS`] are not entered. Inside a git
//! repository its own `.gitignore` files and `.git/info/exclude` are
//! honoured (not `.ignore` files, not a global excludes file, not a
//! `.gitignore` above the repository). A symlink is never followed unless
//! asked, and then never out of the root. Only regular files are returned (a
//! FIFO is never opened). Imports only `source`.

use crate::source::escaped;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Directories never entered: version control, dependencies and build
/// output that no data-plane config lives in.
pub const EXCLUDED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".jj",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".terraform",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// The path as shown: relative to the working directory (with `..` when
    /// it is beside it), with `/` separators, escaped where it is not UTF-8
    /// or holds control characters.
    pub name: String,
}

/// A path that could not be walked or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub found: Found,
    pub reason: String,
}

/// Why a YAML file was left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// A git ignore file matched it: the file shown.
    Ignored(String),
    /// A symbolic link, and `--follow-symlinks` was not given.
    Link,
    /// A symbolic link leading out of the root: never followed.
    LinkOutOfRoot,
    /// A file of a Helm chart's `templates/`: not YAML until Helm renders it.
    HelmTemplate,
    /// `include`/`exclude` of the config file shown left it out.
    Excluded(String),
    /// It holds a `kind: Policy` document outside the policy directories:
    /// the rest of the file is linted, the policy is not loaded.
    PolicyNotLoaded,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Ignored(by) => write!(f, "ignored by {by}"),
            SkipReason::Link => f.write_str("a symbolic link, not followed without --follow-symlinks"),
            SkipReason::LinkOutOfRoot => f.write_str("a symbolic link out of the scanned root, never followed"),
            SkipReason::HelmTemplate => f.write_str("a Helm chart template, not YAML until rendered"),
            SkipReason::Excluded(by) => write!(f, "left out by include/exclude of {by}"),
            SkipReason::PolicyNotLoaded => f.write_str(
                "its Policy is outside the policy directories and was not loaded (add its directory to `policies:`)",
            ),
        }
    }
}

/// A YAML file (or a link) met and not linted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub found: Found,
    pub reason: SkipReason,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<Found>,
    /// Paths that could not be walked or read, and YAML-named entries that
    /// are not regular files (a FIFO is never opened): each is a finding.
    pub unreadable: Vec<Unreadable>,
    /// YAML files left out, sorted by name: ignored, links not followed,
    /// Helm templates.
    pub skipped: Vec<Skipped>,
}

pub const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device); it was not opened";

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
}

pub fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// The name a path is shown under: below the working directory, its path
/// from there; beside it (they share a directory other than `/`), with `..`;
/// else the path itself.
pub fn display_name(path: &Path, cwd: &Path) -> String {
    let shown = match below(path, cwd) {
        Some(relative) => std::borrow::Cow::Borrowed(relative),
        None => beside(path, cwd).map_or(std::borrow::Cow::Borrowed(path), std::borrow::Cow::Owned),
    };
    // Asked once per file found: the component-wise strip and the copy that
    // replaces separators only when there is something to do.
    let shown: &Path = if shown.as_os_str().as_encoded_bytes().starts_with(b"./") {
        shown.strip_prefix("./").unwrap_or(&shown)
    } else {
        &shown
    };
    let text = escaped(shown.as_os_str().as_encoded_bytes());
    #[cfg(windows)]
    let text = text.replace('\\', "/");
    if text.is_empty() { ".".to_string() } else { text }
}

/// `path` relative to `dir` through their deepest common directory, when
/// both are absolute and it is not the file system's root.
fn beside(path: &Path, dir: &Path) -> Option<PathBuf> {
    if !path.is_absolute() || !dir.is_absolute() {
        return None;
    }
    let common = dir.ancestors().find(|a| path.starts_with(a))?;
    // Beside it only through `/`: the path itself says more.
    common.parent()?;
    let up = dir.strip_prefix(common).ok()?.components().count();
    let mut relative: PathBuf = std::iter::repeat_n("..", up).collect();
    relative.push(path.strip_prefix(common).ok()?);
    Some(relative)
}

/// `path` relative to `dir`, as [`Path::strip_prefix`] gives it. A walked
/// path is its root, a separator and plain names: comparing bytes settles it
/// without splitting both paths into components (a tenth of the work). Any
/// other shape (`.` or doubled separators at the joint) is compared by
/// components.
fn below<'p>(path: &'p Path, dir: &Path) -> Option<&'p Path> {
    let (path_bytes, dir_bytes) = (path.as_os_str().as_encoded_bytes(), dir.as_os_str().as_encoded_bytes());
    let plain_joint = |rest: &[u8]| {
        !dir_bytes.is_empty()
            && !dir_bytes.ends_with(b"/")
            && !rest.is_empty()
            && !rest.starts_with(b"/")
            && !rest.starts_with(b"./")
            && !rest.ends_with(b"/")
            && !rest.ends_with(b"/.")
            && rest != b"."
    };
    match path_bytes
        .strip_prefix(dir_bytes)
        .and_then(|rest| rest.strip_prefix(b"/"))
    {
        Some(rest) if plain_joint(rest) => {
            let at = path_bytes.len() - rest.len();
            path.to_str().and_then(|text| text.get(at..)).map(Path::new)
        }
        _ => None,
    }
    .or_else(|| path.strip_prefix(dir).ok())
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

/// The nearest directory at or above `dir` holding `.planelint.yaml`.
pub fn config_dir(dir: &Path) -> Option<&Path> {
    dir.ancestors().find(|d| d.join(CONFIG_FILE).is_file())
}

/// Walks `paths` on the calling thread; the result does not depend on the
/// order the walk took. ignore's parallel walker was slower here on two
/// cores: its idle threads poll for work in 1 ms sleeps, and the walk ends
/// only when they wake.
pub fn discover(paths: &[PathBuf], follow_symlinks: bool, cwd: &Path) -> Result<Discovered, DiscoverError> {
    let mut walked = Walked::default();
    for root in paths {
        let absolute = if root.is_absolute() {
            root.clone()
        } else {
            cwd.join(root)
        };
        // Followed: a root named on the command line may be a link.
        let metadata = std::fs::metadata(&absolute).map_err(|_| DiscoverError::Missing(root.clone()))?;
        if metadata.is_dir() {
            walk(&absolute, follow_symlinks, cwd, &mut walked);
        } else {
            let named = Found {
                name: display_name(&absolute, cwd),
                path: absolute.clone(),
            };
            if metadata.is_file() {
                // A file named on the command line is linted whatever its
                // name, and even when an ignore file matches it.
                let canonical = std::fs::canonicalize(&absolute).unwrap_or_else(|_| absolute.clone());
                walked.files.push(Candidate {
                    canonical,
                    found: named,
                    direct: true,
                });
            } else {
                walked.unreadable.push(Unreadable {
                    found: named,
                    reason: NOT_REGULAR.into(),
                });
            }
        }
    }
    let Walked {
        files: mut candidates,
        mut unreadable,
        mut skipped,
    } = walked;
    // A file reached more than once (through symlinks, or from two roots)
    // is scanned once, under the path that uses no symlink, else under the
    // smallest name. Two files are one only when their canonical paths are:
    // names that display alike are still two files. One root walked without
    // following links reaches each file once: the sort by canonical path is
    // then skipped.
    let may_repeat = follow_symlinks || paths.len() > 1;
    if may_repeat {
        candidates.sort_unstable_by(|a, b| {
            (
                a.canonical.as_os_str().as_encoded_bytes(),
                !a.direct,
                a.found.name.as_bytes(),
            )
                .cmp(&(
                    b.canonical.as_os_str().as_encoded_bytes(),
                    !b.direct,
                    b.found.name.as_bytes(),
                ))
        });
        candidates.dedup_by(|later, first| later.canonical == first.canonical);
    }
    let mut files: Vec<Found> = candidates.into_iter().map(|c| c.found).collect();
    files.sort_unstable_by(|a, b| {
        (a.name.as_bytes(), a.path.as_os_str().as_encoded_bytes())
            .cmp(&(b.name.as_bytes(), b.path.as_os_str().as_encoded_bytes()))
    });
    // A file named on the command line and also ignored is linted.
    if !skipped.is_empty() {
        let linted: HashSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
        skipped.retain(|s| !linted.contains(s.found.path.as_path()));
    }
    skipped.sort_by(|a, b| (&a.found.name, &a.found.path, &a.reason).cmp(&(&b.found.name, &b.found.path, &b.reason)));
    skipped.dedup();
    unreadable.sort_by(|a, b| a.found.name.cmp(&b.found.name));
    unreadable.dedup();
    Ok(Discovered {
        files,
        unreadable,
        skipped,
    })
}

/// What the walk found: files under their canonical path, paths that could
/// not be walked, and YAML files left out.
#[derive(Default)]
struct Walked {
    files: Vec<Candidate>,
    unreadable: Vec<Unreadable>,
    skipped: Vec<Skipped>,
}

/// A file found, and whether it was reached without a symlink.
struct Candidate {
    canonical: PathBuf,
    found: Found,
    direct: bool,
}

/// One walk's state: the root, the repository's ignore files, and the
/// directories that are Helm chart templates.
struct Walk<'a> {
    absolute: &'a Path,
    canonical_root: PathBuf,
    follow_symlinks: bool,
    cwd: &'a Path,
    ignores: Option<GitIgnores>,
    template_dirs: HashSet<PathBuf>,
}

impl Walk<'_> {
    fn found(&self, path: &Path) -> Found {
        Found {
            path: path.to_path_buf(),
            name: display_name(path, self.cwd),
        }
    }
}

fn walk(absolute: &Path, follow_symlinks: bool, cwd: &Path, walked: &mut Walked) {
    let canonical_root = std::fs::canonicalize(absolute).unwrap_or_else(|_| absolute.to_path_buf());
    let filter_root = canonical_root.clone();
    // Filled by the walk's entry filter, which must be `'static`.
    let links_out: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let filter_links_out = links_out.clone();
    let walker = ignore::WalkBuilder::new(absolute)
        .standard_filters(false)
        .follow_links(follow_symlinks)
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            // A directory named on the command line is walked whatever its name.
            if is_dir && entry.depth() > 0 && entry.file_name().to_str().is_some_and(|n| EXCLUDED_DIRS.contains(&n)) {
                return false;
            }
            // A followed link to a directory out of the root is not entered
            // (`ln -s / x` must not walk the whole disk).
            if is_dir && entry.path_is_symlink() {
                let inside = std::fs::canonicalize(entry.path()).is_ok_and(|c| c.starts_with(&filter_root));
                if !inside {
                    if let Ok(mut out) = filter_links_out.lock() {
                        out.push(entry.path().to_path_buf());
                    }
                    return false;
                }
            }
            true
        })
        .build();
    let mut state = Walk {
        absolute,
        ignores: git_top_level(&canonical_root).map(|top| GitIgnores::new(top, absolute, cwd)),
        canonical_root,
        follow_symlinks,
        cwd,
        template_dirs: HashSet::new(),
    };
    for entry in walker {
        visit(entry, &mut state, walked);
    }
    let links_out = links_out
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    for link in links_out {
        walked.skipped.push(Skipped {
            found: state.found(&link),
            reason: SkipReason::LinkOutOfRoot,
        });
    }
}

/// Records one entry of the walk.
fn visit(entry: Result<ignore::DirEntry, ignore::Error>, walk: &mut Walk<'_>, walked: &mut Walked) {
    let entry = match entry {
        Ok(entry) => entry,
        Err(error) => {
            let path = error_path(&error).unwrap_or_else(|| walk.absolute.to_path_buf());
            if is_yaml(&path) || path.is_dir() || error.is_io() {
                walked.unreadable.push(Unreadable {
                    found: walk.found(&path),
                    reason: io_reason(&error),
                });
            }
            return;
        }
    };
    let path = entry.path();
    let Some(file_type) = entry.file_type() else {
        return;
    };
    if file_type.is_dir() {
        // A chart's `templates/` holds Go templates that only look like YAML.
        if entry.depth() > 0 && entry.file_name() == "templates" && path.with_file_name("Chart.yaml").is_file() {
            walk.template_dirs.insert(path.to_path_buf());
        }
        return;
    }
    if !is_yaml(path) {
        // Without `--follow-symlinks`, a link to a directory hides what is
        // in it: it is said, like a link to a YAML file.
        if file_type.is_symlink() && path.is_dir() {
            walked.skipped.push(Skipped {
                found: walk.found(path),
                reason: SkipReason::Link,
            });
        }
        return;
    }
    let skip = |reason: SkipReason, walk: &Walk<'_>, walked: &mut Walked| {
        walked.skipped.push(Skipped {
            found: walk.found(path),
            reason,
        });
    };
    if let Some(by) = walk.ignores.as_mut().and_then(|ignores| ignores.ignored(path, false)) {
        return skip(SkipReason::Ignored(by), walk, walked);
    }
    if !walk.template_dirs.is_empty()
        && path
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(walk.absolute))
            .any(|a| walk.template_dirs.contains(a))
    {
        return skip(SkipReason::HelmTemplate, walk, walked);
    }
    if file_type.is_symlink() {
        // Only reached without `--follow-symlinks`.
        return skip(SkipReason::Link, walk, walked);
    }
    if !file_type.is_file() {
        walked.unreadable.push(Unreadable {
            found: walk.found(path),
            reason: NOT_REGULAR.into(),
        });
        return;
    }
    let relative = below(path, walk.absolute);
    // Without following links, a walked path is the root's real path plus
    // real names: no need to ask the file system (several system calls per
    // file) for its canonical form.
    let (canonical, direct) = match (walk.follow_symlinks, relative) {
        (false, Some(relative)) => (walk.canonical_root.join(relative), true),
        _ => {
            let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            if walk.follow_symlinks && !canonical.starts_with(&walk.canonical_root) {
                return skip(SkipReason::LinkOutOfRoot, walk, walked);
            }
            let direct = relative.is_some_and(|r| canonical.strip_prefix(&walk.canonical_root).ok() == Some(r));
            (canonical, direct)
        }
    };
    let found = walk.found(path);
    walked.files.push(Candidate {
        canonical,
        found,
        direct,
    });
}

/// A git repository's own ignore rules: its `.gitignore` files, read as the
/// walk reaches their directories, and `.git/info/exclude`. A deeper file
/// decides before a shallower one; a file in an ignored directory is
/// ignored (git does not look inside it).
struct GitIgnores {
    top: PathBuf,
    /// The directory walked: named on the command line (or a root), it is
    /// walked even when an ignore file matches it or a directory above it.
    walked: PathBuf,
    cwd: PathBuf,
    info_exclude: Option<Arc<Matcher>>,
    /// Per directory met: the ignore files that apply to its entries,
    /// deepest first, and the one that ignores the directory itself.
    dirs: HashMap<PathBuf, DirIgnores>,
}

/// One ignore file, and its name as shown.
struct Matcher {
    rules: ignore::gitignore::Gitignore,
    name: String,
}

#[derive(Clone, Default)]
struct DirIgnores {
    chain: Vec<Arc<Matcher>>,
    ignored_by: Option<String>,
}

impl GitIgnores {
    fn new(top: PathBuf, walked: &Path, cwd: &Path) -> GitIgnores {
        let exclude = top.join(".git/info/exclude");
        let info_exclude = exclude.is_file().then(|| Arc::new(matcher(&top, &exclude, cwd)));
        GitIgnores {
            top,
            walked: walked.to_path_buf(),
            cwd: cwd.to_path_buf(),
            info_exclude,
            dirs: HashMap::new(),
        }
    }

    /// The ignore file that ignores `path` (below the repository's top
    /// level), shown as its name. Asked once per file: a directory's rules
    /// are gathered the first time one of its entries is asked about.
    fn ignored(&mut self, path: &Path, is_dir: bool) -> Option<String> {
        if !path.starts_with(&self.top) || self.walked.starts_with(path) {
            return None;
        }
        let parent = path.parent()?;
        self.gather(parent);
        let dir = self.dirs.get(parent)?;
        if let Some(by) = &dir.ignored_by {
            return Some(by.clone());
        }
        decide(&dir.chain, path, is_dir)
    }

    /// Gathers the rules of `dir` from its parent's and its own
    /// `.gitignore`, once.
    fn gather(&mut self, dir: &Path) {
        if !self.dirs.contains_key(dir) {
            let mut gathered = if dir == self.top || !dir.starts_with(&self.top) {
                DirIgnores {
                    chain: self.info_exclude.iter().cloned().collect(),
                    ignored_by: None,
                }
            } else {
                let parent = dir.parent().unwrap_or(dir).to_path_buf();
                self.gather(&parent);
                let above = self.dirs.get(&parent).cloned().unwrap_or_default();
                let ignored_by = if self.walked.starts_with(dir) {
                    None
                } else {
                    above.ignored_by.clone().or_else(|| decide(&above.chain, dir, true))
                };
                DirIgnores {
                    chain: above.chain,
                    ignored_by,
                }
            };
            let own = dir.join(".gitignore");
            if own.is_file() {
                gathered.chain.insert(0, Arc::new(matcher(dir, &own, &self.cwd)));
            }
            self.dirs.insert(dir.to_path_buf(), gathered);
        }
    }
}

/// The ignore rules of `file`, whose patterns are relative to `dir`. A line
/// git cannot read is skipped by git too.
fn matcher(dir: &Path, file: &Path, cwd: &Path) -> Matcher {
    let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
    let _ = builder.add(file);
    Matcher {
        rules: builder
            .build()
            .unwrap_or_else(|_| ignore::gitignore::Gitignore::empty()),
        name: display_name(file, cwd),
    }
}

/// The first ignore file of `chain` (deepest first) with a pattern for
/// `path`: its name when the pattern ignores, `None` when it re-includes.
fn decide(chain: &[Arc<Matcher>], path: &Path, is_dir: bool) -> Option<String> {
    for matcher in chain {
        match matcher.rules.matched(path, is_dir) {
            ignore::Match::Ignore(_) => return Some(matcher.name.clone()),
            ignore::Match::Whitelist(_) => return None,
            ignore::Match::None => {}
        }
    }
    None
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
        ignore::Error::Io(io) => os_reason(io),
        other => other.to_string(),
    }
}

/// The operating system's reason, without the path the walker puts in the
/// text (the finding names the file already).
fn os_reason(io: &std::io::Error) -> String {
    let inner = io
        .get_ref()
        .and_then(|e| e.downcast_ref::<walkdir::Error>())
        .and_then(walkdir::Error::io_error)
        .unwrap_or(io);
    match inner.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => inner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_relative_to_the_working_directory_with_slashes() {
        let cases = [
            ("/work/repo/a.yaml", "/work", "repo/a.yaml"),
            ("/work", "/work", "."),
            ("/elsewhere/a.yaml", "/work", "/elsewhere/a.yaml"),
            ("./a.yaml", "/work", "a.yaml"),
            ("././a.yaml", "/work", "a.yaml"),
            (".", "/work", "."),
            ("a/./b.yaml", "/work", "a/./b.yaml"),
            ("/work/repo/pools/p.yaml", "/work/repo/clusters", "../pools/p.yaml"),
            ("/work/repo/a.yaml", "/work/repo/clusters/east", "../../a.yaml"),
            ("/work/a\tb.yaml", "/work", "a\\u{9}b.yaml"),
        ];
        for (path, cwd, shown) in cases {
            assert_eq!(display_name(Path::new(path), Path::new(cwd)), shown, "{path} in {cwd}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_or_hold_a_backslash_are_shown_apart_and_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let cwd = Path::new("/work");
        let latin1 = Path::new(std::ffi::OsStr::from_bytes(b"/work/caf\xe9.yaml"));
        let other = Path::new(std::ffi::OsStr::from_bytes(b"/work/caf\xe8.yaml"));
        assert_eq!(display_name(latin1, cwd), "caf\\xe9.yaml");
        assert_eq!(display_name(other, cwd), "caf\\xe8.yaml");
        assert_eq!(display_name(Path::new("/work/a\\b.yaml"), cwd), "a\\b.yaml");
        assert_eq!(display_name(Path::new("/work/a/b.yaml"), cwd), "a/b.yaml");
    }

    #[test]
    fn below_agrees_with_strip_prefix() {
        let cases = [
            ("/work/repo/clusters/a.yaml", "/work/repo"),
            ("/work/repo", "/work/repo"),
            ("/work/repo/", "/work/repo"),
            ("/work/repo//a.yaml", "/work/repo"),
            ("/work/repo/./a.yaml", "/work/repo"),
            ("/work/repo/a/.", "/work/repo"),
            ("/work/repo/a/", "/work/repo"),
            ("/work/repository/a.yaml", "/work/repo"),
            ("/work/./repo/a.yaml", "/work/repo"),
            ("/work/repo/a.yaml", "/work/./repo"),
            ("/work/repo/a.yaml", "/"),
            ("/work/repo/a.yaml", ""),
            ("relative/a.yaml", "relative"),
            ("a.yaml", "/work"),
        ];
        for (path, dir) in cases {
            let (path, dir) = (Path::new(path), Path::new(dir));
            assert_eq!(below(path, dir), path.strip_prefix(dir).ok(), "{path:?} below {dir:?}");
        }
    }
}
