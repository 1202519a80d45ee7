//! What an evaluation builds is charged before it is built. The guard
//! rewrites the calls that can build large values ([`instrument`]): `a + b`
//! of strings or lists becomes [`ADD`], which charges the sum's size and
//! adds; `x.join(..)`, `x.replace(..)` and `x.format(..)` get their target
//! passed through a function that charges the result's size (or, for
//! `format`, a bound of it) and returns the target untouched, so cel still
//! does the work. `matches` becomes [`MATCHES`]: each pattern compiled once
//! per thread, within a size limit. The names start with `@`, so no policy
//! can call or shadow them. The native evaluator reads the same calls and
//! charges the same amounts.

use super::guard;
use cel::common::ast::{CallExpr, Expr, operators};
use cel::common::types::{CelInt, CelString, Kind};
use cel::common::value::{CowVal, Val};
use cel::objects::Value as CelValue;
use cel::{ExecutionError, FunctionContext, IdedExpr};
use std::cell::RefCell;
use std::sync::Arc;

pub const ADD: &str = "@add";
pub const MATCHES: &str = "@matches";
pub const CHARGE_JOIN: &str = "@charge_join";
pub const CHARGE_REPLACE: &str = "@charge_replace";
pub const CHARGE_FORMAT: &str = "@charge_format";

/// What one list element counts toward the byte budget: about what a
/// value's handle takes.
pub const LIST_ELEMENT_BYTES: u64 = 16;

/// What a value that is not a string counts in a bound of `format`'s output.
const FORMATTED_VALUE_BYTES: u64 = 32;

/// The compiled size a `matches` pattern may have (the regex crate's own
/// default is ten times as much).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Rewrites one call of a policy's AST as the module's doc says.
pub fn instrument(call: &mut CallExpr) {
    let internal = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if name.starts_with('@'));
    match call.func_name.as_str() {
        // A comprehension's own `@result + [x]` is bounded by its steps, and
        // cel appends it in place.
        operators::ADD if call.target.is_none() && !call.args.iter().any(internal) => {
            call.func_name = ADD.to_string();
        }
        "matches" => {
            if let Some(text) = call.target.take() {
                call.args.insert(0, *text);
            }
            call.func_name = MATCHES.to_string();
        }
        "join" | "replace" | "format" => {
            let Some(target) = call.target.take() else {
                return;
            };
            let charge = match call.func_name.as_str() {
                "join" => CHARGE_JOIN,
                "replace" => CHARGE_REPLACE,
                _ => CHARGE_FORMAT,
            };
            let id = target.id;
            let mut args = vec![*target];
            args.extend(call.args.iter().cloned());
            call.target = Some(Box::new(IdedExpr {
                id,
                expr: Expr::Call(CallExpr {
                    func_name: charge.to_string(),
                    target: None,
                    args,
                }),
            }));
        }
        _ => {}
    }
}

/// The target of a method call as the policy wrote it: without the charge
/// [`instrument`] put around it.
pub fn uncharged(target: &IdedExpr) -> &IdedExpr {
    match &target.expr {
        Expr::Call(call) if [CHARGE_JOIN, CHARGE_REPLACE, CHARGE_FORMAT].contains(&call.func_name.as_str()) => {
            call.args.first().unwrap_or(target)
        }
        _ => target,
    }
}

/// The bytes of `left + right`: strings by their bytes, lists by their
/// elements; other sums build nothing that grows.
pub fn sum_bytes(left: Option<Sized>, right: Option<Sized>) -> u64 {
    match (left, right) {
        (Some(Sized::Text(a)), Some(Sized::Text(b))) => a.saturating_add(b),
        (Some(Sized::List(a)), Some(Sized::List(b))) => a.saturating_add(b).saturating_mul(LIST_ELEMENT_BYTES),
        _ => 0,
    }
}

/// A value's size, for a charge.
#[derive(Clone, Copy)]
pub enum Sized {
    /// A string, in bytes.
    Text(u64),
    /// A list, in elements.
    List(u64),
}

/// The bytes of `parts.join(separator)`.
pub fn join_bytes(parts: impl ExactSizeIterator<Item = u64>, separator: u64) -> u64 {
    let separators = u64::try_from(parts.len().saturating_sub(1)).unwrap_or(u64::MAX);
    parts
        .fold(0u64, u64::saturating_add)
        .saturating_add(separators.saturating_mul(separator))
}

/// The bytes of `text.replace(old, new, limit)` (a negative limit: every
/// occurrence), as cel replaces: an empty `old` matches before each
/// character and at the end.
pub fn replace_bytes(text: &str, old: &str, new: &str, limit: i64) -> u64 {
    let found = if old.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(old).count()
    };
    let count = match u64::try_from(limit) {
        Ok(limit) => limit.min(u64::try_from(found).unwrap_or(u64::MAX)),
        Err(_) => u64::try_from(found).unwrap_or(u64::MAX),
    };
    let length = |s: &str| u64::try_from(s.len()).unwrap_or(u64::MAX);
    length(text)
        .saturating_sub(count.saturating_mul(length(old)))
        .saturating_add(count.saturating_mul(length(new)))
}

fn size_of(value: &dyn Val) -> Option<Sized> {
    if let Some(text) = value.downcast_ref::<CelString>() {
        return Some(Sized::Text(u64::try_from(text.inner().len()).unwrap_or(u64::MAX)));
    }
    if value.get_type().kind() == Kind::List {
        let size = value.as_sizer().map_or(0, |s| *s.size().inner());
        return Some(Sized::List(u64::try_from(size).unwrap_or(0)));
    }
    None
}

fn exceeded(function: &str) -> ExecutionError {
    ExecutionError::function_error(function, "the evaluation exceeded its budget of bytes built")
}

/// `a + b`, charged.
pub fn add<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let [left, right] = ftx.args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, ftx.args.len()));
    };
    if !guard::charge(sum_bytes(size_of(left.as_ref()), size_of(right.as_ref()))) {
        return Err(exceeded("_+_"));
    }
    let Some(adder) = left.as_adder() else {
        return Err(ExecutionError::UnsupportedBinaryOperator(
            "add",
            CelValue::try_from(left.as_ref()).unwrap_or(CelValue::Null),
            CelValue::try_from(right.as_ref()).unwrap_or(CelValue::Null),
        ));
    };
    let sum = adder.add(right.as_ref())?.into_owned();
    Ok(CowVal::Owned(sum))
}

/// The target of `x.join(separator)`, once the join is charged.
pub fn charge_join<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    if let Some(list) = ftx.args.first().and_then(|l| l.as_iterable()) {
        let mut lengths = Vec::new();
        let mut elements = list.iter();
        while let Some(element) = elements.next() {
            lengths.push(match size_of(element) {
                Some(Sized::Text(bytes)) => bytes,
                _ => 0,
            });
        }
        let separator = text_arg(ftx, 1).map_or(0, |s| s.len());
        let bytes = join_bytes(lengths.into_iter(), u64::try_from(separator).unwrap_or(u64::MAX));
        if !guard::charge(bytes) {
            return Err(exceeded("join"));
        }
    }
    pass_target(ftx)
}

/// The target of `x.replace(old, new[, limit])`, once the replacement is
/// charged.
pub fn charge_replace<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    if let (Some(text), Some(old), Some(new)) = (text_arg(ftx, 0), text_arg(ftx, 1), text_arg(ftx, 2)) {
        let limit = ftx
            .args
            .get(3)
            .and_then(|l| l.downcast_ref::<CelInt>())
            .map_or(-1, |l| *l.inner());
        if !guard::charge(replace_bytes(text, old, new, limit)) {
            return Err(exceeded("replace"));
        }
    }
    pass_target(ftx)
}

/// The target of `x.format(values)`, once a bound of the output is charged:
/// every `%` may bring in every value.
pub fn charge_format<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    if let Some(template) = text_arg(ftx, 0) {
        let specifiers = u64::try_from(template.matches('%').count()).unwrap_or(u64::MAX);
        let mut values = 0u64;
        if let Some(list) = ftx.args.get(1).and_then(|l| l.as_iterable()) {
            let mut elements = list.iter();
            while let Some(element) = elements.next() {
                values = values.saturating_add(match size_of(element) {
                    Some(Sized::Text(bytes)) => bytes,
                    _ => FORMATTED_VALUE_BYTES,
                });
            }
        }
        let bytes = u64::try_from(template.len())
            .unwrap_or(u64::MAX)
            .saturating_add(specifiers.saturating_mul(values));
        if !guard::charge(bytes) {
            return Err(exceeded("format"));
        }
    }
    pass_target(ftx)
}

fn text_arg<'a>(ftx: &'a FunctionContext<'_, '_>, at: usize) -> Option<&'a str> {
    ftx.args
        .get(at)
        .and_then(|a| a.downcast_ref::<CelString>())
        .map(CelString::inner)
}

fn pass_target<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    if ftx.args.is_empty() {
        return Err(ExecutionError::invalid_argument_count(1, 0));
    }
    Ok(ftx.args.remove(0))
}

/// A pattern compiled, or cel's message for why it does not compile.
type Compiled = Result<Arc<regex::Regex>, String>;

thread_local! {
    /// The patterns compiled on this thread, by their text: a policy's
    /// pattern is compiled once, not once per entity.
    static PATTERNS: RefCell<rustc_hash::FxHashMap<Arc<str>, Compiled>> =
        RefCell::new(rustc_hash::FxHashMap::default());
}

/// Compiles `pattern` as cel does, within the size limit; the error is
/// cel's message.
pub fn regex(pattern: &str) -> Compiled {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map(Arc::new)
        .map_err(|error| format!("'{pattern}' not a valid regex:\n{error}"))
}

/// Patterns cached per thread at most; past it the cache starts over (a
/// policy computing a new pattern per entity must not grow it forever).
const CACHED_PATTERNS: usize = 1024;

/// `pattern` compiled, once per thread.
fn compiled(pattern: &str) -> Compiled {
    PATTERNS.with(|patterns| {
        let mut patterns = patterns.borrow_mut();
        if let Some(compiled) = patterns.get(pattern) {
            return compiled.clone();
        }
        if patterns.len() >= CACHED_PATTERNS {
            patterns.clear();
        }
        let compiled = regex(pattern);
        patterns.insert(Arc::from(pattern), compiled.clone());
        compiled
    })
}

/// `text.matches(pattern)`, the pattern compiled once per thread.
pub fn matches<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let (Some(text), Some(pattern)) = (text_arg(ftx, 0), text_arg(ftx, 1)) else {
        return Err(ftx.error("takes a string and a pattern: text.matches('^[a-z]+$')"));
    };
    match compiled(pattern) {
        Ok(expression) => Ok(CowVal::owned(cel::common::types::CelBool::from(
            expression.is_match(text),
        ))),
        Err(message) => Err(ExecutionError::function_error("matches", message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_compiled_once_per_thread_and_within_a_size_limit() {
        let first = compiled("^c[0-9]+$").unwrap();
        let again = compiled("^c[0-9]+$").unwrap();
        assert!(Arc::ptr_eq(&first, &again), "compiled once");
        let error = compiled("(a{1000}){1000}").unwrap_err();
        assert!(error.ends_with("exceeds size limit of 1048576 bytes."), "{error}");
    }

    #[test]
    fn replacements_are_sized_as_cel_replaces() {
        assert_eq!(replace_bytes("aXbXc", "X", "yy", -1), 7);
        assert_eq!(replace_bytes("aXbXc", "X", "yy", 1), 6);
        assert_eq!(replace_bytes("ab", "", "--", -1), "--a--b--".len() as u64);
        assert_eq!(replace_bytes("abc", "abc", "", -1), 0);
    }

    #[test]
    fn joins_and_sums_are_sized_by_what_they_build() {
        assert_eq!(join_bytes([3, 4, 5].into_iter(), 2), 16);
        assert_eq!(join_bytes([].into_iter(), 2), 0);
        assert_eq!(sum_bytes(Some(Sized::Text(3)), Some(Sized::Text(4))), 7);
        assert_eq!(
            sum_bytes(Some(Sized::List(3)), Some(Sized::List(4))),
            7 * LIST_ELEMENT_BYTES
        );
        assert_eq!(sum_bytes(Some(Sized::Text(3)), None), 0);
    }
}
