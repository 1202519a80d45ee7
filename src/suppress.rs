//! Inline suppressions: `# planelint: ignore[rule-id, ...] reason` comments in
//! scanned files, with an optional `until=YYYY-MM-DD`. A comment at the end
//! of a line covers that line; one on a line of its own covers the next line
//! that is not blank or a comment. Comments are not in the YAML tree, so they
//! are found in the text (where one starts: `yaml`). Imports `source`,
//! `diagnostic`, `date`, `yaml` and `registry` (rule renames).

use crate::date::Date;
use crate::diagnostic::{
    Diagnostic, Location, RuleId, SUPPRESSION_EXPIRED, SUPPRESSION_INVALID, SUPPRESSION_UNUSED, Severity, Suppressed,
    Suppression, fails_closed,
};
use crate::registry::Renames;
use crate::source::{SourceFile, SourceId, SourceMap, Span};
use crate::yaml::comment_start;
use std::collections::{BTreeMap, BTreeSet};

const PREFIX: &str = "planelint:";

/// One well-formed suppression comment.
#[derive(Debug)]
struct Comment {
    /// The 1-based line it covers.
    target: usize,
    /// Each rule id, with its span and whether a finding used it.
    rules: Vec<(String, Span, bool)>,
    reason: String,
    until: Option<(Date, Span)>,
}

impl Comment {
    fn ids(&self) -> String {
        let ids: Vec<&str> = self.rules.iter().map(|(id, _, _)| id.as_str()).collect();
        ids.join("`, `")
    }
}

/// A suppression comment, or why it is not one.
enum Parsed {
    Comment(Comment),
    Invalid(Span, String),
}

/// Finds the suppression comments of a file.
fn comments(file: &SourceFile) -> Vec<Parsed> {
    let mut found = Vec::new();
    // Most files have none: one substring search instead of a walk of
    // every line (a tenth of a run on a repo of 5,000 files).
    if !file.text.contains(PREFIX) {
        return found;
    }
    // Own-line comments wait for the next content line.
    let mut pending: Vec<Comment> = Vec::new();
    for (index, (start, line)) in file.lines().enumerate() {
        let number = index + 1;
        let hash = comment_start(line);
        let before = hash.map_or(line, |at| line.get(..at).unwrap_or(""));
        let own_line = before.trim().is_empty();
        if let Some(at) = hash {
            let text = line.get(at + 1..).unwrap_or("");
            let body = text.trim_start();
            if let Some(rest) = body.strip_prefix(PREFIX) {
                let rest_start = start + at + 1 + (text.len() - body.len()) + PREFIX.len();
                let comment_span = Span::new(start + at, start + line.trim_end().len());
                match parse(rest, rest_start, comment_span, number) {
                    Parsed::Comment(comment) if own_line => pending.push(comment),
                    parsed => found.push(parsed),
                }
            }
        }
        if !own_line {
            found.extend(pending.drain(..).map(|mut c| {
                c.target = number;
                Parsed::Comment(c)
            }));
        }
    }
    // Own-line comments with no line after them cover nothing.
    found.extend(pending.into_iter().map(|mut c| {
        c.target = 0;
        Parsed::Comment(c)
    }));
    found
}

/// Parses what follows `planelint:`; `at` is its byte offset in the file.
fn parse(rest: &str, at: usize, comment: Span, line: usize) -> Parsed {
    let invalid = |message: String| Parsed::Invalid(comment, message);
    let trimmed = rest.trim_start();
    let at = at + (rest.len() - trimmed.len());
    let Some(list) = trimmed.strip_prefix("ignore[") else {
        return invalid("expected `# planelint: ignore[rule-id, ...] reason`".into());
    };
    let Some(close) = list.find(']') else {
        return invalid("the rule list of `ignore[` has no closing `]`".into());
    };
    let list_start = at + "ignore[".len();
    let mut rules = Vec::new();
    let mut item_start = 0;
    for item in list.get(..close).unwrap_or("").split(',') {
        let id = item.trim();
        let id_start = list_start + item_start + (item.len() - item.trim_start().len());
        item_start += item.len() + 1;
        if id.is_empty() {
            continue;
        }
        if !RuleId::is_kebab_case(id) {
            return invalid(format!("`{id}` is not a rule id (kebab-case)"));
        }
        rules.push((id.to_string(), Span::new(id_start, id_start + id.len()), false));
    }
    if rules.is_empty() {
        return invalid("the suppression names no rule; write `# planelint: ignore[rule-id] reason`".into());
    }
    let tail_start = list_start + close + 1;
    let mut until = None;
    let mut reason = Vec::new();
    let tail = list.get(close + 1..).unwrap_or("");
    for (word_at, word) in words(tail) {
        let span = Span::new(tail_start + word_at, tail_start + word_at + word.len());
        match word.strip_prefix("until=") {
            Some(date) => match Date::parse(date) {
                Some(date) => until = Some((date, span)),
                None => return invalid(format!("`{word}` is not a date; write `until=YYYY-MM-DD`")),
            },
            None => reason.push(word),
        }
    }
    if reason.is_empty() {
        let comment = Comment {
            target: line,
            rules,
            reason: String::new(),
            until,
        };
        return invalid(format!(
            "the suppression of `{}` gives no reason; say why after the `]`",
            comment.ids()
        ));
    }
    Parsed::Comment(Comment {
        target: line,
        rules,
        reason: reason.join(" "),
        until,
    })
}

/// The whitespace-separated words of `text`, with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(char::is_whitespace)
        .scan(0, |offset, word| {
            let at = *offset;
            *offset += word.len() + 1;
            Some((at, word))
        })
        .filter(|(_, word)| !word.is_empty())
}

/// Applies the suppression comments of `files` to `diagnostics`: a finding a
/// comment covers moves to the returned list. Problems with the comments
/// (invalid, expired, unused) are returned as new diagnostics, but only for
/// files in `reported`. `enabled` tells whether a rule is turned on: a
/// suppression of a rule that is off is not unused. A comment naming a
/// former id of a rule (`renames`) suppresses that rule.
pub fn apply(
    diagnostics: &mut Vec<Diagnostic>,
    sources: &SourceMap,
    files: &[SourceId],
    reported: &[SourceId],
    today: Option<Date>,
    renames: &Renames,
    enabled: impl Fn(&str) -> bool,
) -> (Vec<Suppressed>, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let mut active: BTreeMap<SourceId, Vec<Comment>> = BTreeMap::new();
    for &source in files {
        let Some(file) = sources.get(source) else {
            continue;
        };
        let at = |span| Location { source, span };
        for parsed in comments(file) {
            match parsed {
                Parsed::Invalid(span, message) => problems.push(warning(SUPPRESSION_INVALID, message, at(span))),
                Parsed::Comment(mut comment) => match comment.until {
                    _ if comment.rules.iter().any(|(id, _, _)| fails_closed(id)) => {
                        for (id, span, _) in comment.rules.iter().filter(|(id, _, _)| fails_closed(id)) {
                            let message = format!(
                                "`{id}` says that something was not checked; it cannot be suppressed: fix the input"
                            );
                            problems.push(warning(SUPPRESSION_INVALID, message, at(*span)));
                        }
                        comment.rules.retain(|(id, _, _)| !fails_closed(id));
                        if !comment.rules.is_empty() {
                            active.entry(source).or_default().push(comment);
                        }
                    }
                    Some((until, span)) if today.is_some_and(|today| until < today) => {
                        let message = format!(
                            "the suppression of `{}` expired on {until}; its findings are reported again",
                            comment.ids()
                        );
                        problems.push(warning(SUPPRESSION_EXPIRED, message, at(span)));
                    }
                    _ => active.entry(source).or_default().push(comment),
                },
            }
        }
    }
    let mut suppressed = Vec::new();
    let mut kept = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics.drain(..) {
        let location = diagnostic.location;
        let reason = active.get_mut(&location.source).and_then(|comments| {
            let line = sources.get(location.source)?.line_col(location.span.start).line;
            cover(comments, line, diagnostic.rule.as_str(), renames)
        });
        match reason {
            Some(reason) => suppressed.push(Suppressed {
                diagnostic,
                suppression: Suppression::Inline { reason },
            }),
            None => kept.push(diagnostic),
        }
    }
    *diagnostics = kept;
    for (&source, comments) in &active {
        for comment in comments {
            for (id, span, used) in &comment.rules {
                if !used && enabled(renames.current(id)) {
                    let covers = match comment.target {
                        0 => "no line".to_string(),
                        line => format!("line {line}"),
                    };
                    let message = format!("the suppression of `{id}` matches no finding on {covers}; remove it");
                    problems.push(warning(SUPPRESSION_UNUSED, message, Location { source, span: *span }));
                }
            }
        }
    }
    // Whether a comment elsewhere is unused cannot be known when only some
    // files are reported; their comments still suppress.
    let reported: BTreeSet<SourceId> = reported.iter().copied().collect();
    problems.retain(|d| reported.contains(&d.location.source));
    (suppressed, problems)
}

/// The reason of the comment covering `rule` on `line`, marking the ids
/// that name that rule (itself, or a former id of it) used.
fn cover(comments: &mut [Comment], line: usize, rule: &str, renames: &Renames) -> Option<String> {
    comments.iter_mut().filter(|c| c.target == line).find_map(|c| {
        let mut covered = false;
        for entry in c.rules.iter_mut().filter(|(id, _, _)| renames.current(id) == rule) {
            entry.2 = true;
            covered = true;
        }
        covered.then(|| c.reason.clone())
    })
}

fn warning(rule: &str, message: String, location: Location) -> Diagnostic {
    Diagnostic::new(rule, Severity::Warning, message, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_in_quotes_is_not_a_comment() {
        assert_eq!(comment_start("a: \"x # y\"  # z"), Some(12));
        assert_eq!(comment_start("a: 'it''s # no'"), None);
        assert_eq!(comment_start("a: b#c"), None);
        assert_eq!(comment_start("# own"), Some(0));
        assert_eq!(comment_start("a: don't # yes"), Some(9));
    }
}
