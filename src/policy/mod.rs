//! Policies: policy files (YAML, `kind: Policy`) read into validated
//! [`Policy`] values; the built-in pack is embedded in the binary. CEL is not
//! compiled here (that is the engine's job); expressions keep their location
//! so the engine can point compile errors at the exact character.
//! [`load_set`] is the one way a run gets its policies. Imports `source`,
//! `diagnostic`, `yaml`, `field`, `schema` (the reader), `model` (its
//! collection names), and `discover` and `load` to find and read files.

mod builtin;

pub use builtin::BUILTIN;

use crate::diagnostic::{Diagnostic, ENGINE_RULES, Location, POLICY_ERROR, RuleId, Severity};
use crate::field::Field;
use crate::model::{COLLECTIONS, Collection};
use crate::schema::{self, Key, Reader, STRING_MAP, Shape, key, required};
use crate::source::{SourceFile, SourceId, SourceMap};
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
    /// The field of each related entity they point at (else `field`).
    pub related_field: Option<String>,
    /// The severity of its findings, when not the policy's.
    pub severity: Option<Severity>,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub id: RuleId,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
    /// Where the constraint comes from: a public document's address.
    pub source: Option<String>,
    pub for_each: Option<Collection>,
    pub match_conditions: Vec<Expression>,
    pub variables: Vec<(String, Expression)>,
    pub validations: Vec<Validation>,
    /// Former ids: settings, suppressions and baselines that name one
    /// still apply to this rule.
    pub aliases: Vec<String>,
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
            let text = load::read_told(&path, Some(&options.cwd.join(dir)), options.max_file_bytes).map_err(refused)?;
            files.push((sources.add(SourceFile::new(name, path, Arc::from(text))), Origin::File));
        }
    }
    let mut set = Set::default();
    for (source, origin) in files {
        let (read, mut problems) = read(sources, source, origin);
        set.diagnostics.append(&mut problems);
        for policy in read {
            match name_clash(&set.policies, &policy) {
                Some(problem) => set.diagnostics.push(problem),
                None => set.policies.push(policy),
            }
        }
    }
    Ok(set)
}

/// Why `policy` cannot join `loaded`, if it cannot: one name (an id or a
/// former id) means one rule. Several policies of one rule in one file are
/// one rule; a former id may not be one of the engine's own rules.
fn name_clash(loaded: &[Policy], policy: &Policy) -> Option<Diagnostic> {
    fn names(p: &Policy) -> impl Iterator<Item = &str> {
        std::iter::once(p.id.as_str()).chain(p.aliases.iter().map(String::as_str))
    }
    let what = |name: &str| {
        if name == policy.id.as_str() {
            format!("the rule id `{name}`")
        } else {
            format!("the former id `{name}` of `{}`", policy.id)
        }
    };
    if let Some(engine) = policy
        .aliases
        .iter()
        .find(|a| ENGINE_RULES.iter().any(|r| r.id == a.as_str()))
    {
        let message = format!("{} is one of planelint's own rules", what(engine));
        return Some(Diagnostic::error(POLICY_ERROR, message, policy.location));
    }
    let mine: Vec<&str> = names(policy).collect();
    let (name, first) = loaded.iter().find_map(|p| {
        let clash = names(p).find(|n| mine.contains(n))?;
        (p.id != policy.id || p.location.source != policy.location.source).then_some((clash, p))
    })?;
    let message = match (name == policy.id.as_str(), name == first.id.as_str()) {
        (true, true) => format!("a second policy named `{name}`"),
        (_, true) => format!("{} is the id of another rule", what(name)),
        (_, false) => format!("{} is already a former id of `{}`", what(name), first.id),
    };
    Some(Diagnostic::error(POLICY_ERROR, message, policy.location).with_related(first.location, "first defined here"))
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

const NAMED_EXPRESSION: &[Key] = &[key("name", Shape::String), required("expression", Shape::Expression)];

const VARIABLE: &[Key] = &[
    required("name", Shape::String),
    required("expression", Shape::Expression),
];

const VALIDATION: &[Key] = &[
    required("expression", Shape::Expression),
    key("message", Shape::String),
    key("messageExpression", Shape::Expression),
    key("field", Shape::String).doc("A dotted field path of the entity: where the finding points."),
    key("related", Shape::Expression).doc("The entities shown as related locations."),
    key("relatedField", Shape::String)
        .doc("A dotted field path of each related entity: where its location points (default: `field`)."),
    key("severity", Shape::OneOf(SEVERITIES))
        .doc("The severity of this validation's findings (default: the policy's)."),
];

const METADATA: &[Key] = &[
    required("name", Shape::RuleId).doc("The rule id."),
    key("aliases", Shape::List(&Shape::RuleId))
        .doc("Former ids of the rule: settings, suppressions and baselines that name one still apply."),
    key("labels", STRING_MAP),
    key("annotations", STRING_MAP),
];

const SPEC: &[Key] = &[
    key("severity", Shape::OneOf(SEVERITIES)),
    required("summary", Shape::String),
    key("source", Shape::String).doc("Where the constraint comes from: the address of a public document."),
    key("description", Shape::String).doc("Markdown: why, and how to fix (a last paragraph starting `Fix:`)."),
    key("forEach", Shape::OneOf(&COLLECTIONS)),
    key("matchConditions", Shape::List(&Shape::Map(NAMED_EXPRESSION))),
    key("variables", Shape::List(&Shape::Map(VARIABLE))),
    required("validations", Shape::NonEmptyList(&Shape::Map(VALIDATION))),
];

const API_VERSION: Shape = Shape::OneOf(&["planelint/v1"]);
const KIND: Shape = Shape::OneOf(&["Policy"]);

const POLICY: &[Key] = &[
    required("apiVersion", API_VERSION),
    required("kind", KIND),
    required("metadata", Shape::Map(METADATA)),
    required("spec", Shape::Map(SPEC)),
];

const SEVERITIES: &[&str] = &["error", "warning", "note"];

/// The JSON Schema of a policy file, from the table [`read`] checks against.
pub fn json_schema() -> serde_json::Value {
    schema::document(
        "policy.json",
        "planelint policy",
        "A planelint policy: CEL validations over the model of a data plane.",
        POLICY,
    )
}

/// Reads every `kind: Policy` document of a file. Problems are
/// `manifest-schema` diagnostics; a policy with one is not returned.
pub fn read(sources: &SourceMap, source: SourceId, origin: Origin) -> (Vec<Policy>, Vec<Diagnostic>) {
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
        let mut problems = Vec::new();
        let policy = read_policy(root, source, origin.clone(), &mut problems);
        match policy {
            Some(policy) if problems.is_empty() => policies.push(policy),
            _ => diagnostics.append(&mut problems),
        }
    }
    (policies, diagnostics)
}

fn read_policy(root: &Node, source: SourceId, origin: Origin, diagnostics: &mut Vec<Diagnostic>) -> Option<Policy> {
    let mut reader = Reader::new(source, diagnostics);
    // Another kind of document is said once, not key by key.
    for (name, shape) in [("apiVersion", &API_VERSION), ("kind", &KIND)] {
        if let Some(node) = root.get(name) {
            reader.value(node, shape, name, node.span)?;
        }
    }
    let owner = root
        .as_mapping()
        .and_then(|entries| entries.first())
        .map_or(root.span, |e| e.key.span);
    let document = reader.document(root, POLICY, owner, "a policy")?;
    let part = |name: &str| document.iter().find(|(key, _)| *key == name).map(|(_, field)| field);
    let (metadata, spec) = (part("metadata")?, part("spec")?);
    let name = metadata.at_path("name")?;
    let text = |field: &Field, path: &str| field.at_path(path).and_then(Field::as_str).map(str::to_string);
    let expression = |field: &Field, path: &str| {
        field.at_path(path).and_then(|at| {
            Some(Expression {
                text: at.as_str()?.to_string(),
                location: at.location,
            })
        })
    };
    let items = |path: &str| spec.at_path(path).map_or(&[][..], Field::items);
    Some(Policy {
        id: RuleId::new(name.as_str()?),
        severity: text(spec, "severity")
            .and_then(|s| Severity::parse(&s))
            .unwrap_or(Severity::Error),
        summary: text(spec, "summary").unwrap_or_default(),
        description: text(spec, "description").unwrap_or_default(),
        source: text(spec, "source"),
        for_each: text(spec, "forEach").and_then(|name| Collection::from_name(&name)),
        match_conditions: items("matchConditions")
            .iter()
            .filter_map(|condition| expression(condition, "expression"))
            .collect(),
        variables: items("variables")
            .iter()
            .filter_map(|variable| Some((text(variable, "name")?, expression(variable, "expression")?)))
            .collect(),
        validations: items("validations")
            .iter()
            .filter_map(|validation| {
                Some(Validation {
                    expression: expression(validation, "expression")?,
                    message: text(validation, "message"),
                    message_expression: expression(validation, "messageExpression"),
                    field: text(validation, "field"),
                    related: expression(validation, "related"),
                    related_field: text(validation, "relatedField"),
                    severity: text(validation, "severity").and_then(|s| Severity::parse(&s)),
                })
            })
            .collect(),
        aliases: metadata
            .at_path("aliases")
            .map_or(&[][..], Field::items)
            .iter()
            .filter_map(Field::as_str)
            .map(str::to_string)
            .collect(),
        origin,
        location: name.location,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `line:column message (help)` of each problem, in the file's order.
    fn problems(text: &str) -> Vec<String> {
        let mut sources = SourceMap::default();
        let source = sources.add(SourceFile::new("p.yaml".into(), "p.yaml".into(), Arc::from(text)));
        let (policies, mut problems) = read(&sources, source, Origin::File);
        assert!(policies.is_empty());
        problems.sort_by_key(|d| d.location.span.start);
        let file = sources.get(source).unwrap();
        problems
            .iter()
            .map(|d| {
                let at = file.line_col(d.location.span.start);
                let help = d.help.as_ref().map(|help| format!(" ({help})")).unwrap_or_default();
                format!("{}:{} {}{help}", at.line, at.column, d.message)
            })
            .collect()
    }

    #[test]
    fn a_former_id_names_one_rule_only() {
        let text = "apiVersion: planelint/v1\nkind: Policy\nmetadata: {name: new-a, aliases: [manifest-schema]}\n\
                    spec: {summary: s, validations: [{expression: 'true'}]}\n---\n\
                    apiVersion: planelint/v1\nkind: Policy\nmetadata: {name: new-b, aliases: [old-b]}\n\
                    spec: {summary: s, validations: [{expression: 'true'}]}\n";
        let mut sources = SourceMap::default();
        let source = sources.add(SourceFile::new("p.yaml".into(), "p.yaml".into(), Arc::from(text)));
        let other = sources.add(SourceFile::new("q.yaml".into(), "q.yaml".into(), Arc::from(text)));
        let (policies, problems) = read(&sources, source, Origin::File);
        assert!(problems.is_empty(), "{problems:?}");
        let (again, _) = read(&sources, other, Origin::File);
        let message = |loaded: &[Policy], policy: &Policy| name_clash(loaded, policy).map(|d| d.message);
        assert_eq!(
            message(&[], &policies[0]).as_deref(),
            Some("the former id `manifest-schema` of `new-a` is one of planelint's own rules")
        );
        assert_eq!(message(&policies[..1], &policies[1]), None);
        // The same rule in another file.
        assert_eq!(
            message(&policies[1..], &again[1]).as_deref(),
            Some("a second policy named `new-b`")
        );
    }

    #[test]
    fn a_broken_policy_is_told_what_is_wrong_where() {
        let text = "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: Bad_Name\nspec:\n  severity: warn\n  \
                    sumary: x\n  forEach: cluster\n  validations: []\n---\napiVersion: planelint/v1\nkind: Cluster\n\
                    spec: {pool: a}\n---\napiVersion: planelint/v1\nkind: Policy\nmetadata: {name: ok-one}\n\
                    spec:\n  summary: s\n  validations:\n    - expression: \"  \"\n      mesage: x\n";
        assert_eq!(
            problems(text),
            [
                "4:9 rule id `Bad_Name` must be kebab-case (lower-case words joined by `-`)",
                "5:1 missing required key `summary` in `spec`",
                "6:13 `severity` must be one of `error`, `warning`, `note`, found `warn` (did you mean `warning`?)",
                "7:3 unknown key `sumary` in `spec` (did you mean `summary`?)",
                "8:12 `forEach` must be one of `clusterBlocks`, `clusters`, `dataPlanes`, `domains`, `executionLabels`, `flyteClusters`, \
                 `identities`, `labels`, `placements`, `pools`, `projects`, `routes`, `settings`, `storageBlocks`, `templateReferences`, `templateVariables`, `unitRefs`, `units`, found `cluster` (did you mean `clusters`?)",
                "9:16 `validations` must list at least one item",
                "12:7 `kind` must be `Policy`, found `Cluster`",
                "21:19 `expression` is an empty expression",
                "22:7 unknown key `mesage` in `validations` (did you mean `message`?)",
            ]
        );
    }
}
