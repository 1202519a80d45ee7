//! Runs the pipeline: discover -> load -> model -> evaluate, once per config
//! root. The only module that knows every stage.

use crate::baseline::Baseline;
use crate::config::{self, FileFilter, Flags, Rules, Settings};
use crate::date::Date;
use crate::diagnostic::{self, Diagnostic, FILE_UNREADABLE, Location, Severity, Suppressed};
use crate::discover::{self, DiscoverError, Found, SkipReason, Skipped};
use crate::engine::{self, Engine};
use crate::exit::Exit;
use crate::load;
use crate::model;
use crate::parallel;
use crate::policy::{self, Origin, Policy};
use crate::registry::Registry;
use crate::report::Report;
use crate::source::{SourceFile, SourceId, SourceMap, Span};
use crate::suppress;
use crate::workspace::{self, Plan, Root, RootRule};
use crate::yaml;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    /// How the config roots of `paths` are found.
    pub roots: RootRule,
    /// Where each root's settings come from: `None` applies the fields
    /// below (`policy_dirs`, `rules`, `files`, `layers`, `fail_level`) to
    /// every root; `Some` reads each root's `.planelint.yaml` (or the file
    /// given) and merges the flags into it.
    pub config: Option<ConfigSource>,
    pub policy_dirs: Vec<PathBuf>,
    pub no_builtin: bool,
    pub follow_symlinks: bool,
    pub max_file_bytes: u64,
    /// Isolation units one DataPlane may make.
    pub max_units: usize,
    pub yaml_limits: yaml::Limits,
    pub engine_limits: engine::Limits,
    /// Threads that read and parse the files and evaluate the policies;
    /// 0: one per core.
    pub threads: usize,
    /// Which rules are reported, at which severity.
    pub rules: Rules,
    /// Which discovered files are linted (`include`/`exclude`).
    pub files: FileFilter,
    /// The lowest severity that fails the run.
    pub fail_level: Severity,
    /// Today, for `until=` of suppressions; `None`: none expires.
    pub today: Option<Date>,
    /// Findings to hide (`--baseline`).
    pub baseline: Option<Baseline>,
    /// Helm values files that together describe one cluster (`layers:` of
    /// `.planelint.yaml`), each group in layering order.
    pub layers: Vec<Vec<PathBuf>>,
    /// Counts files as they are loaded, for a caller that shows progress.
    pub progress: Option<Arc<Progress>>,
    /// How policies are evaluated (`--evaluator`).
    pub evaluator: engine::Evaluator,
}

/// The config files a run reads, and the flags merged into each.
#[derive(Clone, Debug, Default)]
pub struct ConfigSource {
    /// `--config`: this file applies to every root.
    pub explicit: Option<PathBuf>,
    pub flags: Flags,
}

impl Options {
    /// The options a config (file and flags) sets, for `paths`.
    pub fn from_settings(paths: Vec<PathBuf>, settings: &Settings, no_builtin: bool, cwd: &Path) -> Options {
        Options {
            paths,
            no_builtin,
            ..Options::default().with_settings(settings, cwd)
        }
    }

    /// These options with what `settings` set.
    fn with_settings(self, settings: &Settings, cwd: &Path) -> Options {
        Options {
            policy_dirs: settings.policies.iter().map(|p| p.value.clone()).collect(),
            rules: settings.rules.clone(),
            files: settings.file_filter(cwd),
            layers: settings.layers.iter().map(|group| group.value.clone()).collect(),
            fail_level: settings.fail_level.value,
            ..self
        }
    }
}

/// How far loading has come: files found, and files read and parsed.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: AtomicUsize,
    pub done: AtomicUsize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            paths: vec![PathBuf::from(".")],
            roots: RootRule::default(),
            config: None,
            policy_dirs: Vec::new(),
            no_builtin: false,
            follow_symlinks: false,
            max_file_bytes: 64 << 20,
            max_units: model::MAX_UNITS,
            yaml_limits: yaml::Limits::default(),
            engine_limits: engine::Limits::default(),
            threads: 0,
            rules: Rules::default(),
            files: FileFilter::default(),
            fail_level: Severity::Error,
            today: None,
            baseline: None,
            layers: Vec::new(),
            progress: None,
            evaluator: engine::Evaluator::default(),
        }
    }
}

/// Wall time spent in each stage of a run.
#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub discover: Duration,
    pub load: Duration,
    /// Building the model.
    pub model: Duration,
    /// Compiling the policies, once the models are built.
    pub compile: Duration,
    pub evaluate: Duration,
    /// What evaluating took: policies on entities, and how many of those
    /// cel's interpreter did.
    pub evaluations: engine::Counts,
}

/// A config root of a run, with the settings that applied to it.
#[derive(Debug, Clone)]
pub struct RootSettings {
    pub root: Root,
    /// `None` when the run's own options applied ([`Options::config`]).
    pub settings: Option<Settings>,
    /// The config file read, for `--show-config`.
    pub config_sources: SourceMap,
    /// The lowest severity that fails the run, for this root's findings.
    pub fail_level: Severity,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Run {
    pub sources: SourceMap,
    /// Sorted by file, line, column, rule and message.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings hidden by a suppression comment or the baseline, sorted.
    pub suppressed: Vec<Suppressed>,
    pub policies: Vec<Policy>,
    pub files_scanned: usize,
    /// The scanned config files that findings are reported for: those of
    /// the paths given (the rest of their roots is loaded for the model).
    pub scanned: Vec<SourceId>,
    /// The absolute directory that repository-relative paths (SARIF URIs)
    /// start from: the git top level of the roots, else their common
    /// directory.
    pub root: PathBuf,
    /// The config roots, in path order, with their settings.
    pub roots: Vec<RootSettings>,
    /// YAML files and links met but not checked: unreadable, over the size
    /// limit, not UTF-8, not regular files, and those of `skipped`.
    pub skipped_files: usize,
    /// YAML files left out on purpose (ignored, excluded, links not
    /// followed, Helm templates), sorted by name.
    pub skipped: Vec<Skipped>,
    /// A policy failed to load: the run exits 2.
    pub policy_load_failed: bool,
    /// YAML documents a reader recognized, per file.
    pub documents_read: Vec<(SourceId, usize)>,
    /// YAML documents no reader recognized, in file order.
    pub unread: Vec<model::Unread>,
    pub timings: Timings,
    /// The models the policies ran on, for the audit report.
    pub models: Vec<model::Model>,
}

impl Run {
    /// [`Exit::Usage`] when a policy failed to load, [`Exit::Findings`] when
    /// a finding is at or above the fail level of its root, else
    /// [`Exit::Clean`].
    pub fn exit_code(&self) -> Exit {
        if self.policy_load_failed {
            Exit::Usage
        } else if self
            .diagnostics
            .iter()
            .any(|d| d.severity >= self.fail_level_of(d.location.source))
        {
            Exit::Findings
        } else {
            Exit::Clean
        }
    }

    /// The fail level of the root that `source` is in: the deepest root
    /// holding it, else the first root's.
    pub fn fail_level_of(&self, source: SourceId) -> Severity {
        let path = self.sources.get(source).map(|file| file.path.as_path());
        self.roots
            .iter()
            .rev()
            .find(|root| path.is_some_and(|p| p.starts_with(&root.root.dir)))
            .or(self.roots.first())
            .map_or(Severity::Error, |root| root.fail_level)
    }

    /// The fail level shown in reports: that of the first root.
    pub fn fail_level(&self) -> Severity {
        self.roots.first().map_or(Severity::Error, |root| root.fail_level)
    }

    /// What a renderer shows of this run: `diagnostics` (the run's, or a
    /// selection of them), paths relative to `workspace` where one is given.
    pub fn report<'a>(&'a self, diagnostics: &'a [Diagnostic], workspace: Option<&'a Path>) -> Report<'a> {
        Report {
            diagnostics,
            suppressed: &self.suppressed,
            sources: &self.sources,
            policies: &self.policies,
            scanned: &self.scanned,
            files_scanned: self.files_scanned,
            skipped_files: self.skipped_files,
            skipped: &self.skipped,
            documents_read: self.documents_read.iter().map(|(_, n)| n).sum(),
            unread: &self.unread,
            execution_successful: !self.policy_load_failed,
            root: &self.root,
            workspace,
            fail_level: self.fail_level(),
        }
    }

    /// The settings of the first root that read its config, for what is
    /// one per run (the output format).
    pub fn settings(&self) -> Option<&Settings> {
        self.roots.iter().find_map(|root| root.settings.as_ref())
    }
}

/// Failures that stop a run before it starts: usage errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error(transparent)]
    PolicyDir(#[from] policy::SetError),
    #[error("the policy engine failed: {0}")]
    Engine(String),
    #[error("cannot read the config file {}: {error}", path.display())]
    ConfigUnreadable { path: PathBuf, error: std::io::Error },
    /// A config file has problems, as diagnostics on `source` of `sources`.
    #[error("the config file has problems")]
    ConfigInvalid {
        sources: SourceMap,
        file: SourceId,
        problems: Vec<Diagnostic>,
    },
}

impl From<config::LoadError> for CheckError {
    fn from(error: config::LoadError) -> Self {
        match error {
            config::LoadError::Unreadable { path, error } => CheckError::ConfigUnreadable { path, error },
            config::LoadError::Invalid {
                sources,
                source,
                problems,
            } => CheckError::ConfigInvalid {
                sources,
                file: source,
                problems,
            },
        }
    }
}

/// The roots of a run's paths with the settings of each, and the files of
/// each root (discovered, before `include`/`exclude`).
pub struct Planned {
    pub plan: Plan,
    pub roots: Vec<(RootSettings, Vec<Found>)>,
    pub unreadable: Vec<discover::Unreadable>,
    pub skipped: Vec<Skipped>,
    pub discover_time: Duration,
}

/// Finds the roots of `options.paths`, walks them, and reads the config of
/// each root.
pub fn plan(options: &Options, cwd: &Path) -> Result<Planned, CheckError> {
    let started = Instant::now();
    let plan = workspace::plan(&options.paths, cwd, options.roots)?;
    let discovered = discover::discover(&plan.walk_paths(), options.follow_symlinks, cwd)?;
    let discover_time = started.elapsed();
    let mut roots = Vec::new();
    for (root, files) in plan.split(discovered.files, options.roots) {
        let settings = match &options.config {
            Some(source) => {
                let file = match &source.explicit {
                    Some(explicit) => Some(cwd.join(explicit)),
                    None => root.config.clone(),
                };
                Some(config::load_file(file, source.flags.clone(), cwd)?)
            }
            None => None,
        };
        let fail_level = settings
            .as_ref()
            .map_or(options.fail_level, |(s, _)| s.fail_level.value);
        let (settings, config_sources) = settings.map_or((None, SourceMap::default()), |(s, m)| (Some(s), m));
        roots.push((
            RootSettings {
                root,
                settings,
                config_sources,
                fail_level,
            },
            files,
        ));
    }
    // A root whose config says `helmTemplates: lint` lints its templates.
    let mut skipped = discovered.skipped;
    skipped.retain(|skip| {
        if !matches!(skip.reason, SkipReason::HelmTemplate) {
            return true;
        }
        // The deepest root holding the file, as for the other files.
        let owner = roots
            .iter_mut()
            .filter(|(root, _)| skip.found.path.starts_with(&root.root.dir))
            .max_by_key(|(root, _)| root.root.dir.as_os_str().len());
        match owner {
            Some((root, files)) if root.settings.as_ref().is_some_and(|s| s.lint_helm_templates.value) => {
                files.push(skip.found.clone());
                false
            }
            _ => true,
        }
    });
    Ok(Planned {
        plan,
        roots,
        unreadable: discovered.unreadable,
        skipped,
        discover_time,
    })
}

pub fn check(options: &Options, cwd: &Path) -> Result<Run, CheckError> {
    // Started first, the threads are ready by the time they have work.
    let pool = parallel::pool(thread_count(options.threads), engine::ENGINE_STACK_BYTES)
        .map_err(|e| CheckError::Engine(format!("could not start the threads: {e}")))?;
    let Planned {
        plan,
        mut roots,
        unreadable,
        mut skipped,
        discover_time,
    } = self::plan(options, cwd)?;
    if roots.is_empty() {
        // No paths (`rules`, `explain`): the policies alone are loaded.
        roots.push((
            RootSettings {
                root: Root {
                    dir: cwd.to_path_buf(),
                    config: None,
                },
                settings: None,
                config_sources: SourceMap::default(),
                fail_level: options.fail_level,
            },
            Vec::new(),
        ));
    }
    let mut run = Run {
        root: repository_root(&roots, cwd),
        ..Run::default()
    };
    run.timings.discover = discover_time;
    run.sources.set_root(run.root.clone());
    // A root none of whose files is shown has nothing to report (its models
    // are its own); unless no root has, one runs to load the policies.
    let shown = |files: &[Found]| files.iter().any(|f| plan.shows(&f.path));
    if roots.iter().any(|(_, files)| shown(files)) {
        roots.retain(|(_, files)| shown(files));
    } else {
        roots.truncate(1);
    }
    if let Some(progress) = &options.progress {
        progress
            .total
            .store(roots.iter().map(|(_, files)| files.len()).sum(), Ordering::Relaxed);
    }
    // The sources each root read its policies from.
    let mut policy_sources: Vec<std::ops::Range<usize>> = Vec::new();
    for (root, mut files) in roots {
        let root_options = match &root.settings {
            Some(settings) => options.clone().with_settings(settings, cwd),
            None => options.clone(),
        };
        let policy_dirs = canonical_dirs(&root_options.policy_dirs, cwd);
        // Policies are not manifests: the files of a policy directory inside
        // the tree are read as policies only.
        files.retain(|found| !policy_dirs.iter().any(|dir| found.path.starts_with(dir)));
        let excluded_by = root
            .settings
            .as_ref()
            .and_then(|s| s.file.as_ref())
            .map_or_else(|| "the config".to_string(), |f| discover::display_name(f, cwd));
        files.retain(|found| {
            let linted = root_options.files.matches(&found.path);
            if !linted {
                skipped.push(Skipped {
                    found: found.clone(),
                    reason: SkipReason::Excluded(excluded_by.clone()),
                });
            }
            linted
        });
        // Ids follow the paths below the root: the model is in their order,
        // whatever the working directory.
        files.sort_by(|a, b| {
            a.path
                .as_os_str()
                .as_encoded_bytes()
                .cmp(b.path.as_os_str().as_encoded_bytes())
        });
        let dir = root.root.dir.clone();
        run.roots.push(root);
        let job = RootJob {
            root: &dir,
            policy_dirs: &policy_dirs,
            options: &root_options,
            cwd,
            plan: &plan,
            pool: &pool,
        };
        policy_sources.push(check_root(&mut run, files, job)?);
    }
    for unreadable in unreadable.iter().filter(|u| plan.shows(&u.found.path)) {
        let file = SourceFile::new(
            unreadable.found.name.clone(),
            unreadable.found.path.clone(),
            Arc::from(""),
        );
        let source = run.sources.add(file);
        run.scanned.push(source);
        run.skipped_files += 1;
        run.diagnostics.push(Diagnostic::error(
            FILE_UNREADABLE,
            format!("could not read {}: {}", unreadable.found.name, unreadable.reason),
            Location {
                source,
                span: Span::default(),
            },
        ));
    }
    skipped.append(&mut run.skipped);
    skipped.retain(|s| plan.shows(&s.found.path));
    skipped.sort_by(|a, b| (&a.found.name, &a.found.path).cmp(&(&b.found.name, &b.found.path)));
    run.skipped_files += skipped.len();
    run.skipped = skipped;
    let sources = &run.sources;
    let shown = |source: SourceId| sources.get(source).is_some_and(|f| plan.shows(&f.path));
    run.documents_read.retain(|(source, _)| shown(*source));
    run.unread.retain(|u| shown(u.location.source));
    if policy_sources.len() > 1 {
        // Roots that share a policy directory report its problems once.
        let mut seen = BTreeSet::new();
        let sources = &run.sources;
        run.diagnostics.retain(|d| {
            if !policy_sources
                .iter()
                .any(|range| range.contains(&(d.location.source.0 as usize)))
            {
                return true;
            }
            let path = sources.get(d.location.source).map(|f| f.path.clone());
            seen.insert((path, d.location.span, d.rule.clone(), d.message.clone()))
        });
    }
    if let Some(baseline) = &options.baseline {
        let renames = Registry::new(&run.policies, &run.sources).renames();
        let mut hidden = baseline.apply(&mut run.diagnostics, &run.sources, &renames);
        run.suppressed.append(&mut hidden);
    }
    // The policies of several roots are one table (SARIF's rules).
    run.policies.sort_by(|a, b| a.id.cmp(&b.id));
    diagnostic::sort(&mut run.diagnostics, &run.sources);
    run.suppressed
        .sort_by(|a, b| diagnostic::compare(&a.diagnostic, &b.diagnostic, &run.sources));
    Ok(run)
}

/// The directory repository-relative paths start from: the git top level
/// of the roots, else their common directory.
fn repository_root(roots: &[(RootSettings, Vec<Found>)], cwd: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = roots.iter().map(|(root, _)| root.root.dir.clone()).collect();
    discover::common_directory(&dirs)
        .map(|common| discover::git_top_level(&common).unwrap_or(common))
        .unwrap_or_else(|| cwd.to_path_buf())
}

/// `dirs` (relative to `cwd`) made canonical, each once.
fn canonical_dirs(dirs: &[PathBuf], cwd: &Path) -> Vec<PathBuf> {
    let mut canonical: Vec<PathBuf> = dirs
        .iter()
        .map(|dir| std::fs::canonicalize(cwd.join(dir)).unwrap_or_else(|_| cwd.join(dir)))
        .collect();
    canonical.sort();
    canonical.dedup();
    canonical
}

/// What one root's part of a run needs besides its files.
#[derive(Clone, Copy)]
struct RootJob<'a> {
    root: &'a Path,
    /// Canonical, each once.
    policy_dirs: &'a [PathBuf],
    options: &'a Options,
    cwd: &'a Path,
    plan: &'a Plan,
    pool: &'a parallel::Pool,
}

/// Runs one root: its policies, its files, its models; appends what it
/// found to `run`. Findings are kept for the files `plan` shows. Returns the
/// ids of the sources its policies were read from.
fn check_root(run: &mut Run, files: Vec<Found>, job: RootJob<'_>) -> Result<std::ops::Range<usize>, CheckError> {
    // The root's findings are adopted (rules, suppressions) on their own;
    // the sources are shared, so that ids stay valid across roots.
    let mut part = Run {
        sources: std::mem::take(&mut run.sources),
        ..Run::default()
    };
    let first_policy_source = part.sources.len();
    let result = check_root_into(&mut part, files, job);
    run.sources = std::mem::take(&mut part.sources);
    let first_config_source = result?;
    run.diagnostics.append(&mut part.diagnostics);
    run.suppressed.append(&mut part.suppressed);
    // A rule is one policy or several (one per collection) of one root; the
    // same rule of another root is already listed.
    let listed: BTreeSet<String> = run.policies.iter().map(|p| p.id.to_string()).collect();
    run.policies
        .extend(part.policies.drain(..).filter(|p| !listed.contains(p.id.as_str())));
    run.files_scanned += part.files_scanned;
    run.scanned.append(&mut part.scanned);
    run.skipped_files += part.skipped_files;
    run.skipped.append(&mut part.skipped);
    run.documents_read.append(&mut part.documents_read);
    run.unread.append(&mut part.unread);
    run.policy_load_failed |= part.policy_load_failed;
    run.models.append(&mut part.models);
    let (total, more) = (&mut run.timings, part.timings);
    total.load += more.load;
    total.model += more.model;
    total.compile += more.compile;
    total.evaluate += more.evaluate;
    total.evaluations += more.evaluations;
    Ok(first_policy_source..first_config_source)
}

/// [`check_root`] on a run of its own; returns the id of the first config
/// source (those before it, from where the run started, are policies).
fn check_root_into(run: &mut Run, files: Vec<Found>, job: RootJob<'_>) -> Result<usize, CheckError> {
    let RootJob {
        root,
        policy_dirs,
        options,
        cwd,
        plan,
        pool,
    } = job;
    let first_policy_source = run.sources.len();
    let set_options = policy::SetOptions {
        builtin: !options.no_builtin,
        dirs: policy_dirs,
        cwd,
        max_file_bytes: options.max_file_bytes,
    };
    parallel::working_on("reading the policies");
    let policy::Set {
        policies,
        diagnostics: load_diagnostics,
    } = policy::load_set(&mut run.sources, &set_options)?;

    // Every source from here on is a scanned config file.
    let first_config_source = run.sources.len();
    let (models, made) = load_and_build(&files, root, options, pool, run);
    // A built-in policy over a collection no model can have cannot fire and
    // is not compiled; a user's policy always is, so that its errors show.
    // Compiling and evaluating recurse over CEL ASTs: they run on threads
    // whose stack the engine's limits are sized for.
    let policy_texts = &run.sources;
    let limits = options.engine_limits;
    let (engine, compile_errors, compile_time) = pool.install(|| {
        parallel::working_on("compiling the policies");
        let started = Instant::now();
        let used =
            |policy: &Policy| policy.origin != Origin::BuiltIn || policy.for_each.is_none_or(|c| made.contains(&c));
        let (engine, errors) = Engine::compile(policies, policy_texts, limits, used);
        (engine, errors, started.elapsed())
    });

    let started = Instant::now();
    let mut findings = Vec::new();
    let mut counts = engine::Counts::default();
    for model in &models {
        let mut evaluation = engine.evaluate(model, pool, options.evaluator);
        findings.append(&mut evaluation.diagnostics);
        counts += evaluation.counts;
    }
    let evaluated = started.elapsed();
    let loaded_policies: Vec<Policy> = engine.policies().into_iter().cloned().collect();
    run.timings.compile = compile_time;
    run.timings.evaluate = evaluated;
    run.timings.evaluations = counts;
    run.policy_load_failed = !load_diagnostics.is_empty() || !compile_errors.is_empty();
    run.policies = loaded_policies;
    run.diagnostics.extend(load_diagnostics);
    run.diagnostics.extend(compile_errors);
    run.diagnostics.append(&mut findings);
    run.models = models;

    let config_sources = run.sources.iter().skip(first_config_source);
    run.scanned = config_sources
        .filter(|(_, file)| plan.shows(&file.path))
        .map(|(id, _)| id)
        .collect();
    // The files counted are those of the paths given; the rest of the root
    // was loaded for the model only.
    run.files_scanned = run.scanned.len();
    let reported: BTreeSet<SourceId> = run.scanned.iter().copied().collect();
    let is_config = |id: SourceId| id.0 as usize >= first_config_source;
    let is_policy = |id: SourceId| (first_policy_source..first_config_source).contains(&(id.0 as usize));
    // Findings in this root's policy files stay: they explain an exit code
    // of 2. Those of another root's sources are not this root's.
    run.diagnostics.retain(|d| {
        is_policy(d.location.source)
            || (is_config(d.location.source)
                && (reported.contains(&d.location.source)
                    || d.related.iter().any(|r| reported.contains(&r.location.source))))
    });
    adopt(run, options, first_config_source);
    Ok(first_config_source)
}

/// Reads and parses the files, and builds the models; with them, the
/// collections that their manifests and adapters make.
fn load_and_build(
    files: &[Found],
    root: &Path,
    options: &Options,
    pool: &parallel::Pool,
    run: &mut Run,
) -> (Vec<model::Model>, BTreeSet<model::Collection>) {
    let started = Instant::now();
    let load_options = load::LoadOptions {
        max_file_bytes: options.max_file_bytes,
        yaml_limits: options.yaml_limits,
        max_units: options.max_units,
        layers: &options.layers,
        done: options.progress.as_deref().map(|progress| &progress.done),
    };
    let mut loaded = load::load(files, root, &mut run.sources, &load_options, pool);
    run.timings.load = started.elapsed();
    run.skipped_files += loaded.unchecked;
    run.diagnostics.extend(loaded.diagnostics);
    run.skipped
        .extend(loaded.policies_not_loaded.into_iter().map(|found| Skipped {
            found,
            reason: SkipReason::PolicyNotLoaded,
        }));
    for file in &mut loaded.files {
        run.documents_read.push((file.source, file.extracted.documents_read));
        run.unread.append(&mut file.extracted.unread);
    }
    let made = model::collections_made(&loaded.files);
    parallel::working_on("building the model");
    let started = Instant::now();
    let models = model::build(loaded.files, &mut run.diagnostics);
    run.timings.model = started.elapsed();
    (models, made)
}

/// Applies the adoption settings to the findings: rules turned off or
/// re-levelled, then inline suppressions.
fn adopt(run: &mut Run, options: &Options, first_config_source: usize) {
    // Settings and comments may name a rule by a former id.
    let renames = Registry::new(&run.policies, &run.sources).renames();
    let rules = options.rules.renamed(&renames);
    rules.apply(&mut run.diagnostics);
    for policy in &mut run.policies {
        policy.severity = rules.severity(policy.id.as_str()).unwrap_or(policy.severity);
    }
    let config_sources: Vec<SourceId> = run.sources.iter().skip(first_config_source).map(|(id, _)| id).collect();
    let (suppressed, mut problems) = suppress::apply(
        &mut run.diagnostics,
        &run.sources,
        &config_sources,
        &run.scanned,
        options.today,
        &renames,
        |rule| rules.enabled(rule),
    );
    rules.apply(&mut problems);
    run.diagnostics.append(&mut problems);
    run.suppressed = suppressed;
}

/// The threads to use: `0` means one per core.
fn thread_count(requested: usize) -> usize {
    match requested {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}
