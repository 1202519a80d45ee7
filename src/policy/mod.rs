//! Policies: policy files (YAML, `kind: Policy`) read into validated
//! [`Policy`] values; the built-in pack is embedded in the binary. CEL is not
//! compiled here (that is the engine's job); expressions keep their location
//! so the engine can point compile errors at the exact character.
//! [`load_set`] is the one way a run gets its policies. Imports `source`,
//! `diagnostic`, `yaml`, `model` (its collection names), and `discover` and
//! `load` to find and read files.

mod builtin;

pub use builtin::BUILTIN;

use crate::diagnostic::{Diagnostic, Location, POLICY_ERROR, RuleId, Severity};
use crate::model::COLLECTIONS;
use crate::source::{SourceFile, SourceId, SourceMap, Span};
use crate::yaml::{self, Node};
use crate::{discover, load};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a policy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    File,
}

/// A CEL expression and where its text sits in the policy file.
#[derive(Clone, Debug)]
pub struct Expression {
    pub text: String,
    /// The YAML scalar holding the expression.
    pub location: Location,
}

#[derive(Clone, Debug)]
pub struct Validation {
    pub expression: Expression,
    pub message: Option<String>,
    pub message_expression: Option<Expression>,
    /// A dotted field path of the entity: where the primary span points.
    pub field: Option<String>,
    /// An expression giving the entities shown as related locations.
    pub related: Option<Expression>,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub id: RuleId,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
    pub for_each: Option<String>,
    pub match_conditions: Vec<Expression>,
    pub variables: Vec<(String, Expression)>,
    pub validations: Vec<Validation>,
    pub origin: Origin,
    /// The policy's `metadata.name` value.
    pub location: Location,
}

/// Where a run's policies come from.
#[derive(Clone, Copy, Debug)]
pub struct SetOptions<'a> {
    /// Whether the built-in pack is loaded (not with `--no-builtin`).
    pub builtin: bool,
    /// Directories of policy files, as given (relative to `cwd`).
    pub dirs: &'a [PathBuf],
    pub cwd: &'a Path,
    /// A policy file larger than this is refused.
    pub max_file_bytes: u64,
}

/// A policy directory, or a file in it, that cannot be read: the run
/// cannot start (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("policy directory {}: {reason}", path.display())]
pub struct SetError {
    pub path: PathBuf,
    pub reason: String,
}

/// A run's policies, and the problems of reading them.
#[derive(Debug, Default)]
pub struct Set {
    pub policies: Vec<Policy>,
    /// `manifest-schema` problems, and `policy-error` for a second policy
    /// of one id in another file: a set with any did not load.
    pub diagnostics: Vec<Diagnostic>,
}

/// The built-in pack (unless turned off), then the YAML files of each
/// directory in name order, added to `sources` and read. A rule may be
/// written as several policies of one file (one per collection); the same id
/// in another file is a clash.
pub fn load_set(sources: &mut SourceMap, options: &SetOptions<'_>) -> Result<Set, SetError> {
    let mut files = Vec::new();
    if options.builtin {
        for (name, text) in BUILTIN {
            let file = SourceFile::new(format!("<builtin>/{name}"), PathBuf::from(name), Arc::from(*text));
            files.push((sources.add(file), Origin::BuiltIn));
        }
    }
    for dir in options.dirs {
        for path in policy_files(dir, options.cwd)? {
            let name = discover::display_name(&path, options.cwd);
            let refused = |reason: String| SetError {
                path: PathBuf::from(&name),
                reason,
            };
            let bytes = std::fs::File::open(&path)
                .and_then(|file| load::read_bounded(file, options.max_file_bytes))
                .map_err(|e| refused(e.to_string()))?
                .map_err(|size| refused(format!("the file is {size} bytes, over the limit")))?;
            let text = String::from_utf8(bytes).map_err(|_| refused("not valid UTF-8".into()))?;
            files.push((sources.add(SourceFile::new(name, path, Arc::from(text))), Origin::File));
        }
    }
    let mut set = Set::default();
    for (source, origin) in files {
        let (read, mut problems) = read(sources, source, origin, COLLECTIONS);
        set.diagnostics.append(&mut problems);
        for policy in read {
            if let Some(first) = set
                .policies
                .iter()
                .find(|p| p.id == policy.id && p.location.source != policy.location.source)
            {
                set.diagnostics.push(
                    Diagnostic::error(
                        POLICY_ERROR,
                        format!("a second policy named `{}`", policy.id),
                        policy.location,
                    )
                    .with_related(first.location, "first defined here"),
                );
            } else {
                set.policies.push(policy);
            }
        }
    }
    Ok(set)
}

/// The policy files in `dir`, with absolute paths: a fingerprint names a
/// policy file by its path below the run's root, whatever the working
/// directory.
fn policy_files(dir: &Path, cwd: &Path) -> Result<Vec<PathBuf>, SetError> {
    let entries = std::fs::read_dir(cwd.join(dir)).map_err(|e| SetError {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && discover::is_yaml(p))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads every `kind: Policy` document of a file. Problems are
/// `manifest-schema` diagnostics; a policy with one is not returned.
pub fn read(
    sources: &SourceMap,
    source: SourceId,
    origin: Origin,
    collections: &[&str],
) -> (Vec<Policy>, Vec<Diagnostic>) {
    let Some(file) = sources.get(source) else {
        return (Vec::new(), Vec::new());
    };
    let loaded = yaml::load(&file.text, source, yaml::Limits::default());
    let mut diagnostics = loaded.diagnostics;
    let mut policies = Vec::new();
    for root in loaded.documents.iter().filter_map(|d| d.root.as_ref()) {
        if matches!(root.scalar(), Some(yaml::Scalar::Null)) {
            continue;
        }
        let mut reader = Reader::new(source);
        let policy = reader.policy(root, origin.clone(), collections);
        match policy {
            Some(policy) if reader.diagnostics.is_empty() => policies.push(policy),
            _ => diagnostics.append(&mut reader.diagnostics),
        }
    }
    (policies, diagnostics)
}

/// Schema problems, with this module's checks below.
type Reader = yaml::SchemaProblems;

impl Reader {
    /// Checks that `node` is a mapping whose keys are all in `allowed`.
    fn keys<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<&'n [yaml::Entry]> {
        let Some(entries) = node.as_mapping() else {
            self.error(
                node.span,
                format!("{what} must be a mapping, found {}", node.type_name()),
            );
            return None;
        };
        for entry in entries {
            let name = entry.key.as_str().unwrap_or_default();
            if !allowed.contains(&name) {
                self.error(
                    entry.key.span,
                    format!(
                        "unknown key `{name}` in {what}; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(entries)
    }

    fn string(&mut self, parent: &Node, key: &str, required: bool) -> Option<(String, Span)> {
        match parent.get(key) {
            Some(node) => match node.as_str() {
                Some(s) => Some((s.to_string(), node.span)),
                None => {
                    self.error(
                        node.span,
                        format!("`{key}` must be a string, found {}", node.type_name()),
                    );
                    None
                }
            },
            None => {
                if required {
                    self.error(parent.span, format!("missing required key `{key}`"));
                }
                None
            }
        }
    }

    fn expression(&mut self, parent: &Node, key: &str, required: bool) -> Option<Expression> {
        let (text, span) = self.string(parent, key, required)?;
        let text = text.trim_end().to_string();
        if text.trim().is_empty() {
            self.error(span, format!("`{key}` is an empty expression"));
            return None;
        }
        Some(Expression {
            text,
            location: self.at(span),
        })
    }

    fn list<'n>(&mut self, parent: &'n Node, key: &str) -> &'n [Node] {
        match parent.get(key) {
            Some(node) => match node.as_sequence() {
                Some(items) => items,
                None => {
                    self.error(node.span, format!("`{key}` must be a list, found {}", node.type_name()));
                    &[]
                }
            },
            None => &[],
        }
    }

    fn policy(&mut self, root: &Node, origin: Origin, collections: &[&str]) -> Option<Policy> {
        self.keys(root, "a policy", &["apiVersion", "kind", "metadata", "spec"])?;
        let (api_version, api_span) = self.string(root, "apiVersion", true)?;
        if api_version != "planelint/v1" {
            self.error(
                api_span,
                format!("unsupported apiVersion `{api_version}` for a policy; expected `planelint/v1`"),
            );
        }
        let (kind, kind_span) = self.string(root, "kind", true)?;
        if kind != "Policy" {
            self.error(kind_span, format!("expected `kind: Policy`, found `{kind}`"));
        }
        let Some(metadata) = root.get("metadata") else {
            self.error(root.span, "missing required key `metadata`".into());
            return None;
        };
        self.keys(metadata, "`metadata`", &["name", "labels", "annotations"])?;
        let (name, name_span) = self.string(metadata, "name", true)?;
        if !RuleId::is_kebab_case(&name) {
            self.error(
                name_span,
                format!("rule id `{name}` must be kebab-case (lower-case words joined by `-`)"),
            );
        }
        let Some(spec) = root.get("spec") else {
            self.error(root.span, "missing required key `spec`".into());
            return None;
        };
        self.keys(
            spec,
            "`spec`",
            &[
                "severity",
                "summary",
                "description",
                "forEach",
                "matchConditions",
                "variables",
                "validations",
            ],
        )?;
        let severity = match self.string(spec, "severity", false) {
            Some((text, span)) => Severity::parse(&text).or_else(|| {
                self.error(
                    span,
                    format!("`severity` must be one of `error`, `warning`, `note`, found `{text}`"),
                );
                None
            })?,
            None => Severity::Error,
        };
        let summary = self.string(spec, "summary", true).map(|(s, _)| s).unwrap_or_default();
        let description = self
            .string(spec, "description", false)
            .map(|(s, _)| s)
            .unwrap_or_default();
        let for_each = match self.string(spec, "forEach", false) {
            Some((collection, span)) => {
                if !collections.contains(&collection.as_str()) {
                    self.error(
                        span,
                        format!(
                            "unknown collection `{collection}`; expected one of: {}",
                            collections.join(", ")
                        ),
                    );
                }
                Some(collection)
            }
            None => None,
        };
        let mut match_conditions = Vec::new();
        for condition in self.list(spec, "matchConditions") {
            if self
                .keys(condition, "a match condition", &["name", "expression"])
                .is_some()
            {
                match_conditions.extend(self.expression(condition, "expression", true));
            }
        }
        let mut variables = Vec::new();
        for variable in self.list(spec, "variables") {
            if self.keys(variable, "a variable", &["name", "expression"]).is_some() {
                let name = self.string(variable, "name", true);
                let expression = self.expression(variable, "expression", true);
                if let (Some((name, _)), Some(expression)) = (name, expression) {
                    variables.push((name, expression));
                }
            }
        }
        let mut validations = Vec::new();
        for validation in self.list(spec, "validations") {
            if self
                .keys(
                    validation,
                    "a validation",
                    &["expression", "message", "messageExpression", "field", "related"],
                )
                .is_none()
            {
                continue;
            }
            let Some(expression) = self.expression(validation, "expression", true) else {
                continue;
            };
            validations.push(Validation {
                expression,
                message: self.string(validation, "message", false).map(|(s, _)| s),
                message_expression: self.expression(validation, "messageExpression", false),
                field: self.string(validation, "field", false).map(|(s, _)| s),
                related: self.expression(validation, "related", false),
            });
        }
        if validations.is_empty() {
            self.error(spec.span, "a policy needs at least one entry in `validations`".into());
        }
        Some(Policy {
            id: RuleId::new(&name),
            severity,
            summary,
            description,
            for_each,
            match_conditions,
            variables,
            validations,
            origin,
            location: self.at(name_span),
        })
    }
}

/// Maps a position reported by the CEL parser (1-based line, 1-based column
/// in characters, within the expression text) to a byte span in the policy
/// file. The expression's characters are found in the file in order, which
/// skips quotes, escapes and block indentation; an end-of-input position maps
/// to the end of the expression.
pub fn expression_offset(file_text: &str, expression: &Expression, line: usize, column: usize) -> usize {
    let text = &expression.text;
    let mut target = 0;
    let mut current_line = 1;
    for (i, c) in text.char_indices() {
        if current_line == line {
            target = i;
            break;
        }
        if c == '\n' {
            current_line += 1;
            target = i + 1;
        }
    }
    if current_line < line {
        target = text.len();
    }
    let char_target = text
        .get(target..)
        .unwrap_or("")
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| target + i);

    let span = expression.location.span;
    let region = file_text.get(span.start..span.end).unwrap_or("");
    let mut region_chars = region.char_indices().peekable();
    // A block scalar's header line (`|`, `>-`...) is not part of the text.
    if region.starts_with(['|', '>']) {
        for (_, c) in region_chars.by_ref() {
            if c == '\n' {
                break;
            }
        }
    }
    let mut last_end = 0;
    for (i, c) in text.char_indices() {
        if i >= char_target {
            break;
        }
        let mut matched = false;
        for (j, r) in region_chars.by_ref() {
            if r == c || (c == ' ' && r == '\n') {
                last_end = j + r.len_utf8();
                matched = true;
                break;
            }
        }
        if !matched {
            break;
        }
    }
    if char_target >= text.len() {
        return span.start + last_end;
    }
    // The position of the next matching character is the target itself.
    let next = text.get(char_target..).and_then(|rest| rest.chars().next());
    if let Some(next) = next {
        for (j, r) in region_chars {
            if r == next {
                return span.start + j;
            }
        }
    }
    span.start + last_end
}
