//! Load: reads the discovered files of one root and parses them into what
//! each contributes to the model. Files are opened from one directory after
//! another, read under a size bound, then parsed largest first; every file
//! lands in its own slot, so the outcome is the same whatever the thread
//! count. Imports `source`, `diagnostic`, `discover`, `yaml`, `model` and
//! `parallel`.

use crate::diagnostic::{Diagnostic, FILE_UNREADABLE, INPUT_LIMIT, Location, YAML_SYNTAX};
use crate::discover::{self, Found};
use crate::model::{self, LoadedFile};
use crate::parallel;
use crate::source::{SourceFile, SourceId, SourceMap, Span};
use crate::yaml;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What loading needs to know of a run's options.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions<'o> {
    pub max_file_bytes: u64,
    pub yaml_limits: yaml::Limits,
    /// Isolation units one DataPlane may make.
    pub max_units: usize,
    /// Helm values files that together describe one cluster, each group in
    /// layering order.
    pub layers: &'o [Vec<PathBuf>],
    /// Counts the files loaded, for a caller that shows progress.
    pub done: Option<&'o AtomicUsize>,
}

/// The files of one root after loading; their sources are in the source map.
#[derive(Default)]
pub struct Loaded {
    /// In the order of the files found.
    pub files: Vec<LoadedFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that could not be checked at all (unreadable, over the size
    /// limit, not UTF-8).
    pub unchecked: usize,
    /// Files holding `kind: Policy` documents, which are not loaded outside
    /// the policy directories.
    pub policies_not_loaded: Vec<Found>,
}

/// Reads and parses every file on the threads of `pool`. Each file's
/// results land in its own slot, so the outcome is the same whatever the
/// thread count.
pub fn load(
    found: &[Found],
    root: &Path,
    sources: &mut SourceMap,
    options: &LoadOptions<'_>,
    pool: &parallel::Pool,
) -> Loaded {
    let first_id = sources.len();
    let mut out = Loaded::default();
    let layering = model::Layering::new(options.layers);
    let layer_of: Vec<Option<model::Place>> = found.iter().map(|f| layering.place(&f.path)).collect();
    let id = |index: usize| SourceId(u32::try_from(first_id + index).unwrap_or(u32::MAX));
    // Every file is read first, then parsed largest first: a large file (the
    // DataPlane manifest of a big organization) parsed last would leave the
    // other threads idle. Reading first learns the sizes without one more
    // system call per file.
    let texts = parallel::map(found, pool, Opener::default, |opener, index, file| {
        read_file(file, options, id(index), opener)
    });
    let texts: Vec<Result<Arc<str>, Box<FileLoad>>> = found
        .iter()
        .zip(texts)
        .map(|(file, text)| text.unwrap_or_else(|| Err(Box::new(FileLoad::empty(file)))))
        .collect();
    let loaded = parallel::map_costliest_first(
        &texts,
        |text| {
            text.as_ref()
                .map_or(0, |text| u64::try_from(text.len()).unwrap_or(u64::MAX))
        },
        pool,
        || (),
        |(), index, text| {
            let parsed = match (found.get(index), text) {
                (Some(file), Ok(text)) => {
                    let layer = layer_of.get(index).copied().flatten().is_some();
                    // Boxed: a slot per file is a pointer, and each result
                    // is freed as soon as it joins the source map.
                    Some(Box::new(parse_file(file, text.clone(), options, id(index), layer)))
                }
                _ => None,
            };
            if let Some(done) = options.done {
                done.fetch_add(1, Ordering::Relaxed);
            }
            parsed
        },
    );
    let files = &mut out.files;
    files.reserve(found.len());
    let mut layer_roots: Vec<Option<yaml::Node>> = Vec::with_capacity(found.len());
    for ((file, text), parsed) in found.iter().zip(texts).zip(loaded) {
        let loaded = match (text, parsed.flatten()) {
            (Err(unread), _) => *unread,
            (Ok(_), Some(parsed)) => *parsed,
            (Ok(_), None) => FileLoad::empty(file),
        };
        out.unchecked += usize::from(loaded.skipped);
        if loaded.extracted.policies_not_loaded > 0 {
            out.policies_not_loaded.push(file.clone());
        }
        let source = sources.add(loaded.source);
        out.diagnostics.extend(loaded.diagnostics);
        files.push(LoadedFile {
            source,
            root_relative: root_relative(&file.path, root).unwrap_or_else(|| file.name.clone()),
            extracted: loaded.extracted,
        });
        layer_roots.push(loaded.layer_root);
    }
    // A layered values file's cluster is read with its group's other files.
    let layered: Vec<(Option<model::Place>, Option<&yaml::Node>, SourceId)> = layer_of
        .iter()
        .zip(&layer_roots)
        .zip(files.iter())
        .map(|((place, root), file)| (*place, root.as_ref(), file.source))
        .collect();
    for (last, entities) in layering.extract(&layered, &mut out.diagnostics) {
        if let Some(file) = files.get_mut(last) {
            file.extracted.entities.extend(entities);
        }
    }
    out
}

/// Parses one text that is not read from disk (an editor's buffer, a fuzz
/// input) as the file `name` at the root: the same reading as `load`'s,
/// with the text added to `sources`.
pub fn load_text(
    name: &str,
    text: &str,
    sources: &mut SourceMap,
    options: &LoadOptions<'_>,
) -> (LoadedFile, Vec<Diagnostic>) {
    let found = Found {
        path: PathBuf::from(name),
        name: name.to_string(),
    };
    let id = SourceId(u32::try_from(sources.len()).unwrap_or(u32::MAX));
    let parsed = parse_file(&found, Arc::from(text), options, id, false);
    let source = sources.add(parsed.source);
    let file = LoadedFile {
        source,
        root_relative: name.to_string(),
        extracted: parsed.extracted,
    };
    (file, parsed.diagnostics)
}

/// `path` below `root`, with `/` separators: the name that places a file in
/// its model, whatever the working directory.
fn root_relative(path: &Path, root: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| crate::source::escaped(c.as_os_str().as_encoded_bytes()))
        .collect();
    Some(parts.join("/"))
}

/// One file after reading and parsing, before it joins the source map.
struct FileLoad {
    source: SourceFile,
    extracted: model::Extracted,
    /// A layered values file keeps its tree, to be read with its group.
    layer_root: Option<yaml::Node>,
    diagnostics: Vec<Diagnostic>,
    /// The file could not be checked at all.
    skipped: bool,
}

impl FileLoad {
    /// What stands for a file whose worker panicked (the panic goes on).
    fn empty(found: &Found) -> FileLoad {
        FileLoad {
            source: SourceFile::new(found.name.clone(), found.path.clone(), Arc::from("")),
            extracted: model::Extracted::default(),
            layer_root: None,
            diagnostics: Vec::new(),
            skipped: false,
        }
    }
}

/// Reads one file's text; a file that cannot be read, is over the size
/// limit or is not UTF-8 is skipped, with a diagnostic. `id` is the id the
/// file will have in the source map.
fn read_file(
    found: &Found,
    options: &LoadOptions<'_>,
    id: SourceId,
    opener: &mut Opener,
) -> Result<Arc<str>, Box<FileLoad>> {
    parallel::working_on(&found.name);
    let fail = |text: Arc<str>, rule: &str, message: String, span: Span| {
        Box::new(FileLoad {
            source: SourceFile::new(found.name.clone(), found.path.clone(), text),
            extracted: model::Extracted::default(),
            layer_root: None,
            diagnostics: vec![Diagnostic::error(rule, message, Location { source: id, span })],
            skipped: true,
        })
    };
    let bytes = match opener
        .open(&found.path)
        .and_then(|file| read_bounded(file, options.max_file_bytes))
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(size)) => {
            let message = format!(
                "the file is {size} bytes, over the limit of {} bytes; it was not checked",
                options.max_file_bytes
            );
            return Err(fail(Arc::from(""), INPUT_LIMIT, message, Span::default()));
        }
        Err(error) => {
            let message = format!("could not read {}: {error}", found.name);
            return Err(fail(Arc::from(""), FILE_UNREADABLE, message, Span::default()));
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Arc::from(text)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let text: Arc<str> = Arc::from(String::from_utf8_lossy(error.as_bytes()).as_ref());
            let message = "the file is not valid UTF-8; it was not checked".to_string();
            Err(fail(text, YAML_SYNTAX, message, Span::new(at, at + 1)))
        }
    }
}

/// Parses one file's text and reads its manifests; problems become
/// diagnostics on it.
fn parse_file(found: &Found, text: Arc<str>, options: &LoadOptions<'_>, id: SourceId, layer: bool) -> FileLoad {
    parallel::working_on(&found.name);
    // Fault injection for the test of the last-resort guard; debug builds only.
    #[cfg(debug_assertions)]
    if std::env::var_os("PLANELINT_TEST_PANIC_ON").is_some_and(|name| name == found.name.as_str()) {
        panic!("a panic injected by a test");
    }
    let mut loaded = yaml::load(&text, id, options.yaml_limits);
    // Manifests are read here, on the loading threads, and the YAML tree is
    // dropped here too: only the entities go on.
    let wrapping = model::Wrapping {
        text: &text,
        source: id,
        limits: options.yaml_limits,
        layer,
        texts_read: Default::default(),
    };
    let (extracted, layer_root) =
        model::extract(&wrapping, loaded.documents, options.max_units, &mut loaded.diagnostics);
    FileLoad {
        source: SourceFile::new(found.name.clone(), found.path.clone(), text),
        extracted,
        layer_root,
        diagnostics: loaded.diagnostics,
        skipped: false,
    }
}

/// Opens files relative to their directory, kept open while the files come
/// from it: the kernel then resolves one name per file instead of every
/// directory of its path again (on the 5,200 files of the bench repo, the
/// kernel's path walk went from 1.6% to 0.4% of the CPU samples).
#[derive(Default)]
struct Opener {
    directory: Option<(PathBuf, std::fs::File)>,
}

impl Opener {
    fn open(&mut self, path: &Path) -> std::io::Result<std::fs::File> {
        #[cfg(unix)]
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
            if self.directory.as_ref().is_none_or(|(open, _)| open != parent) {
                // A directory that cannot be opened (no read permission) may
                // still let its files be: they are opened by path.
                self.directory = std::fs::File::open(parent).ok().map(|dir| (parent.to_path_buf(), dir));
            }
            if let Some((_, directory)) = &self.directory {
                let file = rustix::fs::openat(directory, name, READ_FLAGS, rustix::fs::Mode::empty())?;
                return Ok(std::fs::File::from(file));
            }
        }
        #[cfg(unix)]
        return Ok(std::fs::File::from(rustix::fs::open(
            path,
            READ_FLAGS,
            rustix::fs::Mode::empty(),
        )?));
        #[cfg(not(unix))]
        std::fs::File::open(path)
    }
}

/// Non-blocking: a file swapped for a FIFO after discovery would otherwise
/// block the open until something writes to it. A regular file reads the
/// same, and what was opened is checked before it is read.
#[cfg(unix)]
const READ_FLAGS: rustix::fs::OFlags = rustix::fs::OFlags::RDONLY
    .union(rustix::fs::OFlags::CLOEXEC)
    .union(rustix::fs::OFlags::NONBLOCK);

/// Reads a file planelint is told about rather than one it lints (a config,
/// a policy, a baseline): only a regular file, only up to `max` bytes, and
/// never through a symbolic link that leaves `within` (a repo's config or
/// policy must not make planelint read, and echo in its errors, a file from
/// elsewhere on the machine).
pub fn read_told(path: &Path, within: Option<&Path>, max: u64) -> Result<String, String> {
    if let Some(within) = within
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    {
        let target = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
        let allowed = std::fs::canonicalize(within).map_err(|e| e.to_string())?;
        if !target.starts_with(&allowed) {
            return Err(format!(
                "it is a symbolic link to a file outside {}; it was not read",
                within.display()
            ));
        }
    }
    let bytes = Opener::default()
        .open(path)
        .and_then(|file| read_bounded(file, max))
        .map_err(|e| e.to_string())?
        .map_err(|size| format!("the file is {size} bytes, over the limit of {max} bytes"))?;
    String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string())
}

/// The size limit of a file planelint is told about, when no flag sets one.
pub const TOLD_FILE_BYTES: u64 = 64 << 20;

/// Reads an open regular file of at most `max` bytes: `Ok(Err(size))` when
/// it is larger. The size is checked on the open handle and the read is
/// bounded by it, so a file that grows (or is swapped) after discovery
/// cannot exhaust memory, and a handle that is not a regular file is never
/// read.
pub fn read_bounded(file: std::fs::File, max: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(std::io::Error::other(discover::NOT_REGULAR));
    }
    if metadata.len() > max {
        return Ok(Err(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // The size the handle reports is what is read: no second read to find
    // the end (a system call per file). A file that reports no size (of a
    // pseudo file system) is read to its end, under the limit.
    let bound = if metadata.len() > 0 {
        metadata.len()
    } else {
        max.saturating_add(1)
    };
    file.take(bound).read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    Ok(if read > max { Err(read) } else { Ok(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_loads_as_the_same_text_read_from_a_file() {
        let text = "apiVersion: planelint/v1\nkind: Cluster\nmetadata: {name: c1}\nspec: {pool: p, metadataBucket: \"s3://b\"}\n---\nglobal: {CLUSTER_NAME: c2, METADATA_BUCKET: b2}\n---\n[";
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, text).expect("file");
        let options = LoadOptions {
            max_file_bytes: 1 << 20,
            yaml_limits: yaml::Limits::default(),
            max_units: 10,
            layers: &[],
            done: None,
        };
        let pool = parallel::pool(1, 1 << 20).expect("a pool");
        let found = [Found {
            path: path.clone(),
            name: "c.yaml".into(),
        }];
        let mut sources = SourceMap::default();
        let from_disk = load(&found, dir.path(), &mut sources, &options, &pool);
        let mut sources = SourceMap::default();
        let (file, diagnostics) = load_text("c.yaml", text, &mut sources, &options);
        let [on_disk] = from_disk.files.as_slice() else {
            panic!("one file loaded");
        };
        assert_eq!(file.root_relative, on_disk.root_relative);
        assert_eq!(format!("{:?}", file.extracted), format!("{:?}", on_disk.extracted));
        assert_eq!(format!("{diagnostics:?}"), format!("{:?}", from_disk.diagnostics));
        assert_eq!(file.extracted.documents_read, 2);
        let rules: Vec<&str> = diagnostics.iter().map(|d| d.rule.as_str()).collect();
        assert_eq!(rules, ["yaml-syntax"], "the unclosed flow sequence: {diagnostics:?}");
    }

    #[test]
    fn the_opener_reads_files_from_one_directory_after_another_as_by_path() {
        let dir = tempfile::tempdir().expect("temporary directory");
        for (path, text) in [("a/x.yaml", "x: 1\n"), ("a/y.yaml", "y: 2\n"), ("b/z.yaml", "z: 3\n")] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("directory");
            std::fs::write(path, text).expect("file");
        }
        let mut opener = Opener::default();
        let mut read = |path: &str| {
            opener
                .open(&dir.path().join(path))
                .and_then(|file| read_bounded(file, 5))
                .map(|bytes| bytes.map(|b| String::from_utf8(b).expect("UTF-8")))
                .map_err(|e| e.to_string())
        };
        assert_eq!(read("a/x.yaml"), Ok(Ok("x: 1\n".into())));
        assert_eq!(read("b/z.yaml"), Ok(Ok("z: 3\n".into())));
        assert_eq!(read("a/y.yaml"), Ok(Ok("y: 2\n".into())));
        let missing = std::fs::File::open(dir.path().join("a/none.yaml"))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(read("a/none.yaml"), Err(missing.expect_err("no such file")));
        assert!(read("c/none.yaml").is_err());
        std::fs::write(dir.path().join("a/x.yaml"), "x: 10\n").expect("file");
        assert_eq!(read("a/x.yaml"), Ok(Err(6)));
    }

    /// A FIFO where a file was found (swapped in after discovery) is opened
    /// without waiting for a writer, and refused without being read.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_opened_without_blocking_and_not_read() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let fifo = dir.path().join("swapped.yaml");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("a FIFO");
        let mut opener = Opener::default();
        let read = opener.open(&fifo).and_then(|file| read_bounded(file, 100));
        assert_eq!(read.map_err(|e| e.to_string()), Err(discover::NOT_REGULAR.to_string()));
    }
}
