//! Config: `.planelint.yaml` read into a validated [`Config`] (every problem
//! a `manifest-schema` diagnostic on the offending key or value), then merged
//! with the command-line flags into [`Settings`]: flags win. Imports
//! `source`, `diagnostic`, `yaml`, `schema`, `field`, `discover`,
//! `registry` (rule renames) and `report` (the names of its formats).

use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::discover;
use crate::field::{Field, Value};
use crate::registry::Renames;
use crate::report::Format;
use crate::schema::{self, Key, Reader, Shape, key};
use crate::source::{SourceFile, SourceId, SourceMap};
use crate::yaml;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LEVELS: Shape = Shape::OneOf(&["off", "error", "warning", "note"]);

/// `.planelint.yaml`: a new key is one entry here and one arm in [`read`].
const CONFIG: &[Key] = &[
    key("policies", Shape::List(&Shape::String)).doc("Extra policy directories, relative to this file."),
    key("rules", Shape::MapOf(&Shape::RuleId, &LEVELS)),
    key("include", Shape::List(&Shape::String)),
    key("exclude", Shape::List(&Shape::String)),
    key("failLevel", Shape::OneOf(&["error", "warning", "note"])),
    key("format", Shape::OneOf(&Format::NAMES)),
    key("helmTemplates", Shape::OneOf(&["skip", "lint"]))
        .doc("Whether the files of a Helm chart's templates/ are skipped (the default: they are Go templates) or linted."),
    key("layers", Shape::List(&Shape::NonEmptyList(&Shape::String))).doc(
        "Helm values files that together describe one cluster, each list in layering order (later wins), relative to this file.",
    ),
];

/// The JSON Schema of `.planelint.yaml`, from the table [`read`] checks against.
pub fn json_schema() -> serde_json::Value {
    schema::document(
        "config.json",
        "planelint config (.planelint.yaml)",
        "How planelint lints this repo.",
        CONFIG,
    )
}

/// What `include` means when the file does not set it.
pub const DEFAULT_INCLUDE: &[&str] = &["**/*.yaml", "**/*.yml"];

/// A rule's setting in `rules:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    Off,
    On(Severity),
}

impl RuleLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleLevel::Off => "off",
            RuleLevel::On(severity) => severity.as_str(),
        }
    }
}

/// Where a setting's value came from, for `--show-config`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provenance {
    Default,
    /// The config file, at this location.
    File(Location),
    /// A command-line flag.
    Flag(&'static str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub from: Provenance,
}

impl<T> Setting<T> {
    fn default(value: T) -> Self {
        Setting {
            value,
            from: Provenance::Default,
        }
    }
}

/// `.planelint.yaml` as read: only the keys it sets.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Policy directories, resolved against the config file's directory.
    pub policies: Vec<Setting<PathBuf>>,
    pub rules: BTreeMap<String, Setting<RuleLevel>>,
    pub include: Option<Setting<Vec<String>>>,
    pub exclude: Option<Setting<Vec<String>>>,
    pub fail_level: Option<Setting<Severity>>,
    pub format: Option<Setting<String>>,
    /// Whether Helm chart templates are linted.
    pub lint_helm_templates: Option<Setting<bool>>,
    /// Helm values files that together describe one cluster, each list in
    /// layering order (later wins), resolved against the config file's
    /// directory.
    pub layers: Vec<Setting<Vec<PathBuf>>>,
}

/// The flags that override or extend the config file.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub policies: Vec<PathBuf>,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_level: Option<Severity>,
    pub format: Option<String>,
}

/// The effective configuration of a run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    /// The config file's policy directories, then `--policy` ones.
    pub policies: Vec<Setting<PathBuf>>,
    pub rules: Rules,
    pub include: Setting<Vec<String>>,
    pub exclude: Setting<Vec<String>>,
    pub fail_level: Setting<Severity>,
    pub format: Setting<String>,
    /// `helmTemplates: lint`: the files of a chart's `templates/` are linted.
    pub lint_helm_templates: Setting<bool>,
    pub layers: Vec<Setting<Vec<PathBuf>>>,
}

/// Which rules run, and at which severity: `rules:` of the config file,
/// narrowed by `--select` and `--ignore`.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pub levels: BTreeMap<String, Setting<RuleLevel>>,
    /// `--select`: when set, only these rules are reported.
    pub select: Option<Setting<Vec<String>>>,
    /// `--ignore`: these rules are never reported.
    pub ignore: Option<Setting<Vec<String>>>,
}

impl Rules {
    /// Whether findings of `rule` are reported.
    pub fn enabled(&self, rule: &str) -> bool {
        // What was not checked is always said, at its own severity.
        if crate::diagnostic::fails_closed(rule) {
            return true;
        }
        let selected = self.select.as_ref().is_none_or(|s| s.value.iter().any(|r| r == rule));
        let ignored = self.ignore.as_ref().is_some_and(|s| s.value.iter().any(|r| r == rule));
        let off = self.levels.get(rule).is_some_and(|l| l.value == RuleLevel::Off);
        selected && !ignored && !off
    }

    /// The severity the config file gives `rule`, if it overrides it.
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        if crate::diagnostic::fails_closed(rule) {
            return None;
        }
        match self.levels.get(rule)?.value {
            RuleLevel::On(severity) => Some(severity),
            RuleLevel::Off => None,
        }
    }

    /// The rule ids these settings name, with where each was named: one that
    /// names no rule is a typo that would otherwise silently turn nothing off.
    pub fn named(&self) -> Vec<(&str, &Provenance)> {
        let listed = self
            .select
            .iter()
            .chain(&self.ignore)
            .flat_map(|s| s.value.iter().map(move |r| (r.as_str(), &s.from)));
        let configured = self.levels.iter().map(|(r, level)| (r.as_str(), &level.from));
        configured.chain(listed).collect()
    }

    /// These settings with every former rule id replaced by the rule's id
    /// (a setting of the id itself wins over one of a former id).
    pub fn renamed(&self, renames: &Renames) -> Rules {
        if renames.is_empty() {
            return self.clone();
        }
        let mut levels = BTreeMap::new();
        for (rule, level) in &self.levels {
            let current = renames.current(rule);
            if current == rule || !self.levels.contains_key(current) {
                levels.insert(current.to_string(), level.clone());
            }
        }
        let rename = |list: &Option<Setting<Vec<String>>>| {
            list.as_ref().map(|setting| Setting {
                value: setting
                    .value
                    .iter()
                    .map(|rule| renames.current(rule).to_string())
                    .collect(),
                from: setting.from.clone(),
            })
        };
        Rules {
            levels,
            select: rename(&self.select),
            ignore: rename(&self.ignore),
        }
    }

    /// Drops the findings of rules that are off and applies severity
    /// overrides to the rest.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain(|d| self.enabled(d.rule.as_str()));
        for d in diagnostics {
            if let Some(severity) = self.severity(d.rule.as_str()) {
                d.severity = severity;
            }
        }
    }
}

/// `include`/`exclude` compiled: which scanned files are linted. Patterns are
/// relative to `base` (the config file's directory, else the working
/// directory).
#[derive(Clone, Debug, Default)]
pub struct FileFilter {
    base: PathBuf,
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl FileFilter {
    /// Whether `path` (absolute, or relative to `base`) is linted.
    pub fn matches(&self, path: &Path) -> bool {
        // Asked once per file found: most configs set neither list.
        if self.include.is_none() && self.exclude.is_none() {
            return true;
        }
        let relative = path.strip_prefix(&self.base).unwrap_or(path);
        self.include.as_ref().is_none_or(|set| set.is_match(relative))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(relative))
    }
}

impl Settings {
    pub fn file_filter(&self, cwd: &Path) -> FileFilter {
        let base = self
            .file
            .as_ref()
            .and_then(|f| f.parent())
            .map_or_else(|| cwd.to_path_buf(), |dir| cwd.join(dir));
        // Walked paths are canonical: so is the base they are matched from,
        // whatever the working directory.
        let base = std::fs::canonicalize(&base).unwrap_or(base);
        let set =
            |setting: &Setting<Vec<String>>| (setting.from != Provenance::Default).then(|| glob_set(&setting.value));
        FileFilter {
            base,
            include: set(&self.include).flatten(),
            exclude: set(&self.exclude).flatten(),
        }
    }
}

/// `patterns` as one set; they were checked when the file was read, so a
/// bad one cannot occur here and would only be skipped.
fn glob_set(patterns: &[String]) -> Option<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        if let Ok(glob) = glob(pattern) {
            builder.add(glob);
        }
    }
    builder.build().ok()
}

/// `*` stays within one directory; `**` crosses them.
fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    globset::GlobBuilder::new(pattern).literal_separator(true).build()
}

/// The config file for a command started in `cwd` that lints no paths
/// (`rules`, `explain`, `test`): `.planelint.yaml` in the nearest directory
/// at or above it that has one.
pub fn find(cwd: &Path) -> Option<PathBuf> {
    discover::config_dir(cwd).map(|dir| dir.join(discover::CONFIG_FILE))
}

/// Why the config file could not be used.
#[derive(Debug)]
pub enum LoadError {
    /// It could not be read.
    Unreadable { path: PathBuf, error: std::io::Error },
    /// It has problems, reported as diagnostics on `source` of `sources`.
    Invalid {
        sources: SourceMap,
        source: SourceId,
        problems: Vec<Diagnostic>,
    },
}

/// The effective settings: the config file (`explicit`, else the nearest
/// `.planelint.yaml` at or above `cwd`) merged with the flags, and the source
/// map holding the file (for `--show-config`).
pub fn load(explicit: Option<PathBuf>, flags: Flags, cwd: &Path) -> Result<(Settings, SourceMap), LoadError> {
    load_file(explicit.or_else(|| find(cwd)), flags, cwd)
}

/// The settings of the config file `file` (none: the defaults) merged with
/// the flags, and the source map holding the file.
pub fn load_file(file: Option<PathBuf>, flags: Flags, cwd: &Path) -> Result<(Settings, SourceMap), LoadError> {
    let mut sources = SourceMap::default();
    let Some(path) = file else {
        return Ok((settings(None, Config::default(), flags), sources));
    };
    let absolute = cwd.join(&path);
    let text =
        crate::load::read_told(&absolute, absolute.parent(), crate::load::TOLD_FILE_BYTES).map_err(|reason| {
            LoadError::Unreadable {
                path,
                error: std::io::Error::other(reason),
            }
        })?;
    let name = discover::display_name(&absolute, cwd);
    let source = sources.add(SourceFile::new(name, absolute.clone(), std::sync::Arc::from(text)));
    let (config, mut problems) = read(&sources, source);
    if problems.is_empty() {
        return Ok((settings(Some(absolute), config, flags), sources));
    }
    crate::diagnostic::sort(&mut problems, &sources);
    Err(LoadError::Invalid {
        sources,
        source,
        problems,
    })
}

/// Merges the config file (if any) and the flags: flags win for single
/// values, `--policy` adds to `policies`, `--select`/`--ignore` narrow
/// `rules`.
pub fn settings(file: Option<PathBuf>, config: Config, flags: Flags) -> Settings {
    let mut policies = config.policies;
    policies.extend(flags.policies.into_iter().map(|value| Setting {
        value,
        from: Provenance::Flag("--policy"),
    }));
    let flag_list = |list: Vec<String>, name| {
        (!list.is_empty()).then_some(Setting {
            value: list,
            from: Provenance::Flag(name),
        })
    };
    let defaults = |patterns: &[&str]| Setting::default(patterns.iter().map(|p| p.to_string()).collect());
    Settings {
        file,
        policies,
        rules: Rules {
            levels: config.rules,
            select: flag_list(flags.select, "--select"),
            ignore: flag_list(flags.ignore, "--ignore"),
        },
        include: config.include.unwrap_or_else(|| defaults(DEFAULT_INCLUDE)),
        exclude: config.exclude.unwrap_or_else(|| defaults(&[])),
        fail_level: match flags.fail_level {
            Some(value) => Setting {
                value,
                from: Provenance::Flag("--fail-level"),
            },
            None => config.fail_level.unwrap_or(Setting::default(Severity::Error)),
        },
        format: match flags.format {
            Some(value) => Setting {
                value,
                from: Provenance::Flag("--format"),
            },
            None => config.format.unwrap_or(Setting::default("human".to_string())),
        },
        lint_helm_templates: config.lint_helm_templates.unwrap_or(Setting::default(false)),
        layers: config.layers,
    }
}

/// Reads the config file `source`. Problems are `manifest-schema`
/// diagnostics; the config is only usable when there are none.
pub fn read(sources: &SourceMap, source: SourceId) -> (Config, Vec<Diagnostic>) {
    let mut config = Config::default();
    let Some(file) = sources.get(source) else {
        return (config, Vec::new());
    };
    let dir = file.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let loaded = yaml::load(&file.text, source, yaml::Limits::default());
    let mut diagnostics = loaded.diagnostics;
    let mut reader = Reader::new(source, &mut diagnostics);
    let mut roots = loaded.documents.iter().filter_map(|d| d.root.as_ref());
    let Some(root) = roots.next() else {
        return (config, diagnostics);
    };
    if let Some(second) = roots.next() {
        reader.push(
            second.span,
            "the config file holds more than one YAML document".into(),
            None,
        );
    }
    if matches!(root.scalar(), Some(yaml::Scalar::Null)) {
        return (config, diagnostics);
    }
    let fields = reader
        .document(root, CONFIG, root.span, "the config file")
        .unwrap_or_default();
    let from = |field: &Field| Provenance::File(field.location);
    for (name, field) in fields {
        match name {
            "policies" => {
                for item in field.items() {
                    if let Some(path) = item.as_str() {
                        config.policies.push(Setting {
                            value: dir.join(path),
                            from: from(item),
                        });
                    }
                }
            }
            "rules" => {
                if let Value::Map(rules) = &field.value {
                    for (id, level) in rules {
                        let value = match level.as_str() {
                            Some("off") => Some(RuleLevel::Off),
                            text => text.and_then(Severity::parse).map(RuleLevel::On),
                        };
                        if let Some(value) = value {
                            config.rules.insert(
                                id.to_string(),
                                Setting {
                                    value,
                                    from: from(level),
                                },
                            );
                        }
                    }
                }
            }
            "include" => config.include = globs(&mut reader, &field),
            "exclude" => config.exclude = globs(&mut reader, &field),
            "failLevel" => {
                config.fail_level = field.as_str().and_then(Severity::parse).map(|value| Setting {
                    value,
                    from: from(&field),
                });
            }
            "format" => {
                config.format = field.as_str().map(|value| Setting {
                    value: value.to_string(),
                    from: from(&field),
                });
            }
            "helmTemplates" => {
                config.lint_helm_templates = field.as_str().map(|value| Setting {
                    value: value == "lint",
                    from: from(&field),
                });
            }
            "layers" => {
                for group in field.items() {
                    let files: Vec<PathBuf> = group
                        .items()
                        .iter()
                        .filter_map(Field::as_str)
                        .map(|f| dir.join(f))
                        .collect();
                    config.layers.push(Setting {
                        value: files,
                        from: from(group),
                    });
                }
            }
            _ => {}
        }
    }
    (config, diagnostics)
}

/// A list of glob patterns; one that does not compile is reported.
fn globs(reader: &mut Reader<'_>, field: &Field) -> Option<Setting<Vec<String>>> {
    let Value::List(items) = &field.value else {
        return None;
    };
    let mut valid = true;
    let mut patterns = Vec::with_capacity(items.len());
    for item in items {
        let Some(pattern) = item.as_str() else { continue };
        match glob(pattern) {
            Ok(_) => patterns.push(pattern.to_string()),
            Err(error) => {
                reader.push(
                    item.location.span,
                    format!("`{pattern}` is not a valid glob: {}", error.kind()),
                    None,
                );
                valid = false;
            }
        }
    }
    valid.then_some(Setting {
        value: patterns,
        from: Provenance::File(field.location),
    })
}

/// `--show-config`: the effective configuration as YAML, each value with a
/// comment saying where it came from.
pub fn show(settings: &Settings, sources: &SourceMap, cwd: &Path) -> String {
    let from = |p: &Provenance| match p {
        Provenance::Default => "default".to_string(),
        Provenance::Flag(flag) => flag.to_string(),
        Provenance::File(location) => match sources.get(location.source) {
            Some(file) => {
                let at = file.line_col(location.span.start);
                format!("{}:{}:{}", file.name, at.line, at.column)
            }
            None => "config file".to_string(),
        },
    };
    let list = |setting: &Setting<Vec<String>>| {
        let items: Vec<String> = setting.value.iter().map(|v| quote(v)).collect();
        format!("[{}]  # {}", items.join(", "), from(&setting.from))
    };
    let mut out = String::new();
    let file = settings
        .file
        .as_ref()
        .map_or_else(|| "none".to_string(), |f| discover::display_name(f, cwd));
    out.push_str(&format!("# config file: {file}\n"));
    if settings.policies.is_empty() {
        out.push_str("policies: []  # default\n");
    } else {
        out.push_str("policies:\n");
        for policy in &settings.policies {
            let shown = discover::display_name(&policy.value, cwd);
            out.push_str(&format!("  - {}  # {}\n", quote(&shown), from(&policy.from)));
        }
    }
    if settings.rules.levels.is_empty() {
        out.push_str("rules: {}  # default\n");
    } else {
        out.push_str("rules:\n");
        for (id, level) in &settings.rules.levels {
            out.push_str(&format!("  {id}: {}  # {}\n", level.value.as_str(), from(&level.from)));
        }
    }
    for (name, setting) in [("select", &settings.rules.select), ("ignore", &settings.rules.ignore)] {
        if let Some(setting) = setting {
            out.push_str(&format!("{name}: {}\n", list(setting)));
        }
    }
    out.push_str(&format!("include: {}\n", list(&settings.include)));
    out.push_str(&format!("exclude: {}\n", list(&settings.exclude)));
    out.push_str(&format!(
        "failLevel: {}  # {}\n",
        settings.fail_level.value,
        from(&settings.fail_level.from)
    ));
    out.push_str(&format!(
        "format: {}  # {}\n",
        settings.format.value,
        from(&settings.format.from)
    ));
    out.push_str(&format!(
        "helmTemplates: {}  # {}\n",
        if settings.lint_helm_templates.value {
            "lint"
        } else {
            "skip"
        },
        from(&settings.lint_helm_templates.from)
    ));
    if !settings.layers.is_empty() {
        out.push_str("layers:\n");
        for group in &settings.layers {
            let files: Vec<String> = group
                .value
                .iter()
                .map(|f| quote(&discover::display_name(f, cwd)))
                .collect();
            out.push_str(&format!("  - [{}]  # {}\n", files.join(", "), from(&group.from)));
        }
    }
    out
}

/// A YAML double-quoted string (JSON's syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    fn read_text(text: &str) -> (Config, Vec<String>) {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new(
            ".planelint.yaml".into(),
            PathBuf::from("/repo/.planelint.yaml"),
            Arc::from(text),
        ));
        let (config, mut diagnostics) = read(&sources, id);
        diagnostics.sort_by_key(|d| d.location.span.start);
        let file = sources.get(id).unwrap();
        let messages = diagnostics
            .iter()
            .map(|d| {
                let at = file.line_col(d.location.span.start);
                let help = d
                    .help
                    .as_ref()
                    .map(|help| format!(" (help: {help})"))
                    .unwrap_or_default();
                format!("{}:{} {}: {}{help}", at.line, at.column, d.rule, d.message)
            })
            .collect();
        (config, messages)
    }

    #[test]
    fn reads_every_key() {
        let (config, problems) = read_text(
            "policies: [local]\nrules:\n  a-rule: off\n  b-rule: warning\ninclude: ['**/*.yaml']\n\
             exclude: ['charts/*/templates/**']\nfailLevel: note\nformat: json\n",
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(config.policies[0].value, PathBuf::from("/repo/local"));
        assert_eq!(config.rules["a-rule"].value, RuleLevel::Off);
        assert_eq!(config.rules["b-rule"].value, RuleLevel::On(Severity::Warning));
        assert_eq!(config.fail_level.unwrap().value, Severity::Note);
        assert_eq!(config.format.unwrap().value, "json");
    }

    #[test]
    fn unknown_key_and_bad_values_point_at_them() {
        let (_, problems) =
            read_text("polices: []\nrules: {Bad: off, x-y: loud}\nformat: xml\nexclude: ['a[']\nfailLevel: warn\n");
        assert_eq!(
            problems,
            vec![
                "1:1 manifest-schema: unknown key `polices` in the config file (help: did you mean `policies`?)",
                "2:9 manifest-schema: rule id `Bad` must be kebab-case (lower-case words joined by `-`)",
                "2:24 manifest-schema: `rules.x-y` must be one of `off`, `error`, `warning`, `note`, found `loud`",
                "3:9 manifest-schema: `format` must be one of `human`, `json`, `sarif`, `github`, `junit`, found `xml`",
                "4:11 manifest-schema: `a[` is not a valid glob: unclosed character class; missing ']'",
                "5:12 manifest-schema: `failLevel` must be one of `error`, `warning`, `note`, found `warn` (help: did you mean `warning`?)",
            ]
        );
    }

    #[test]
    fn a_former_rule_id_names_the_rule_unless_its_own_id_is_set() {
        let (config, problems) = read_text("rules:\n  old-a: off\n  old-b: off\n  new-b: warning\n");
        assert_eq!(problems, Vec::<String>::new());
        let rules = Rules {
            levels: config.rules,
            select: None,
            ignore: Some(Setting {
                value: vec!["old-c".into()],
                from: Provenance::Flag("--ignore"),
            }),
        };
        let renames: Renames = [("old-a", "new-a"), ("old-b", "new-b"), ("old-c", "new-c")]
            .map(|(old, new)| (old.to_string(), new.to_string()))
            .into_iter()
            .collect();
        let renamed = rules.renamed(&renames);
        assert!(!renamed.enabled("new-a"));
        assert_eq!(renamed.severity("new-b"), Some(Severity::Warning));
        assert!(!renamed.enabled("new-c"));
        assert!(renamed.enabled("old-a"));
    }

    #[test]
    fn filter_globs_are_relative_to_the_base() {
        let settings = settings(
            Some(PathBuf::from("/repo/.planelint.yaml")),
            Config {
                exclude: Some(Setting {
                    value: vec!["charts/*/templates/**".into()],
                    from: Provenance::Flag("test"),
                }),
                ..Config::default()
            },
            Flags::default(),
        );
        let filter = settings.file_filter(Path::new("/"));
        assert!(filter.matches(Path::new("/repo/charts/values.yaml")));
        assert!(!filter.matches(Path::new("/repo/charts/a/templates/x/d.yaml")));
        assert!(filter.matches(Path::new("/repo/charts/a/b/templates/d.yaml")));
    }
}
