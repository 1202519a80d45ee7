//! What an evaluation builds is charged before it is built. The guard
//! rewrites the calls that can build large values ([`instrument`]): `a + b`
//! of strings or lists becomes [`ADD`], which charges the sum's size and
//! adds; `x.join(..)`, `x.replace(..)` and `x.split(..)` become [`JOIN`],
//! [`REPLACE`] and [`SPLIT`], done here as cel's strings extension does them,
//! after a charge of their result; the argument of `strings.quote` and each
//! element of a list or map literal (a comprehension's appended `[x]` too)
//! pass through [`CHARGE_VALUE`] or [`CHARGE_QUOTE`], which charge what cel
//! copies. `format` is refused: its output cannot be bounded without
//! evaluating its arguments twice. `matches` becomes [`MATCHES`]: each
//! pattern compiled once per thread, within a size limit. The names start
//! with `@`, so no policy can call or shadow them. The native evaluator reads
//! the same calls and charges the same amounts.

use super::guard;
use super::value::{EntityVal, GroupIndex, KeyedList, ModelVal, VariablesVal};
use cel::common::ast::{CallExpr, EntryExpr, Expr, operators};
use cel::common::types::{CelBytes, CelInt, CelList, CelMap, CelString, Kind};
use cel::common::value::{CowVal, Val};
use cel::objects::Value as CelValue;
use cel::{ExecutionError, FunctionContext, IdedExpr};
use std::cell::RefCell;
use std::sync::Arc;

pub const ADD: &str = "@add";
pub const MATCHES: &str = "@matches";
pub const JOIN: &str = "@join";
pub const REPLACE: &str = "@replace";
pub const SPLIT: &str = "@split";
pub const CHARGE_VALUE: &str = "@charge_value";
pub const CHARGE_QUOTE: &str = "@charge_quote";

/// What each element of a list or entry of a map counts toward the byte
/// budget, besides its own contents: about what a value's handle takes.
pub const ELEMENT_BYTES: u64 = 16;

/// The compiled size a `matches` pattern may have (the regex crate's own
/// default is ten times as much).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Rewrites one node of a policy's AST as the module's doc says, before its
/// children are visited (they are rewritten in turn).
pub fn instrument(node: &mut IdedExpr) -> Result<(), String> {
    let internal = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if name.starts_with('@'));
    // A literal is bounded by the expression's size, and what holds it is
    // charged in turn (a `map` step's appended list, a sum): literals, the
    // usual elements of a list literal (`x in ['a', 'b']`), are not charged.
    let charged = |element: &mut IdedExpr| {
        if matches!(element.expr, Expr::Literal(_)) {
            return;
        }
        let value = std::mem::take(element);
        *element = IdedExpr {
            id: value.id,
            expr: Expr::Call(CallExpr {
                func_name: CHARGE_VALUE.to_string(),
                target: None,
                args: vec![value],
            }),
        };
    };
    match &mut node.expr {
        Expr::List(list) => list.elements.iter_mut().for_each(charged),
        Expr::Map(map) => {
            for entry in &mut map.entries {
                if let EntryExpr::MapEntry(entry) = &mut entry.expr {
                    charged(&mut entry.value);
                }
            }
        }
        Expr::Call(call) => match call.func_name.as_str() {
            // A comprehension's own `@result + [x]` appends in place: the
            // element it appends is charged, as every list literal's are.
            operators::ADD if call.target.is_none() && !call.args.iter().any(internal) => {
                call.func_name = ADD.to_string();
            }
            "matches" => as_function(call, MATCHES),
            "join" if call.target.is_some() => as_function(call, JOIN),
            "replace" if call.target.is_some() => as_function(call, REPLACE),
            "split" if call.target.is_some() => as_function(call, SPLIT),
            // `strings.quote(x)` parses as a call of `quote` on `strings`.
            "quote" | "strings.quote"
                if call
                    .target
                    .as_deref()
                    .is_none_or(|t| matches!(&t.expr, Expr::Ident(name) if name == "strings")) =>
            {
                if let Some(text) = call.args.first_mut() {
                    let value = std::mem::take(text);
                    *text = IdedExpr {
                        id: value.id,
                        expr: Expr::Call(CallExpr {
                            func_name: CHARGE_QUOTE.to_string(),
                            target: None,
                            args: vec![value],
                        }),
                    };
                }
            }
            "format" => {
                return Err(
                    "`format` is not supported: its output cannot be bounded before it is built; build the string with `+` and `string()`"
                        .into(),
                );
            }
            _ => {}
        },
        _ => {}
    }
    Ok(())
}

/// `x.f(args)` as `@f(x, args)`: a method's target becomes the first argument.
fn as_function(call: &mut CallExpr, name: &str) {
    if let Some(target) = call.target.take() {
        call.args.insert(0, *target);
    }
    call.func_name = name.to_string();
}

/// A value's size as cel copies it: a string its bytes, a list or a map
/// [`ELEMENT_BYTES`] per element and entry plus their own sizes; the model's
/// values are shared, not copied: a handle each.
pub fn size_of(value: &dyn Val) -> u64 {
    if value.downcast_ref::<EntityVal>().is_some()
        || value.downcast_ref::<KeyedList>().is_some()
        || value.downcast_ref::<GroupIndex>().is_some()
        || value.downcast_ref::<ModelVal>().is_some()
        || value.downcast_ref::<VariablesVal>().is_some()
    {
        return ELEMENT_BYTES;
    }
    if let Some(text) = value.downcast_ref::<CelString>() {
        return length(text.inner());
    }
    if let Some(bytes) = value.downcast_ref::<CelBytes>() {
        return u64::try_from(bytes.inner().len()).unwrap_or(u64::MAX);
    }
    if let Some(map) = value.downcast_ref::<CelMap>() {
        return map.inner().iter().fold(0, |total, (key, value)| {
            total
                .saturating_add(ELEMENT_BYTES)
                .saturating_add(size_of(key.inner()))
                .saturating_add(size_of(value.as_ref()))
        });
    }
    if value.get_type().kind() == Kind::List {
        let mut total = 0u64;
        if let Some(list) = value.as_iterable() {
            let mut elements = list.iter();
            while let Some(element) = elements.next() {
                total = total.saturating_add(ELEMENT_BYTES).saturating_add(size_of(element));
            }
        }
        return total;
    }
    0
}

pub fn length(text: &str) -> u64 {
    u64::try_from(text.len()).unwrap_or(u64::MAX)
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
    let found = u64::try_from(found).unwrap_or(u64::MAX);
    let count = u64::try_from(limit).map_or(found, |limit| limit.min(found));
    length(text)
        .saturating_sub(count.saturating_mul(length(old)))
        .saturating_add(count.saturating_mul(length(new)))
}

/// `text.split(separator, limit)` as cel's strings extension splits: at
/// most `limit` parts, the last holding the rest (none for zero, all for a
/// negative limit); an empty separator splits between characters.
pub fn split<'t>(text: &'t str, separator: &str, limit: i64) -> Vec<&'t str> {
    match (usize::try_from(limit), separator.is_empty()) {
        (Ok(0), _) => Vec::new(),
        (Ok(limit), true) => {
            let mut parts: Vec<&str> = Vec::new();
            let mut rest = text;
            while let Some(c) = rest.chars().next() {
                if parts.len() + 1 == limit {
                    break;
                }
                let (head, tail) = rest.split_at(c.len_utf8());
                parts.push(head);
                rest = tail;
            }
            if !rest.is_empty() {
                parts.push(rest);
            }
            parts
        }
        (Ok(limit), false) => text.splitn(limit, separator).collect(),
        (Err(_), true) => text
            .char_indices()
            .filter_map(|(i, c)| text.get(i..i + c.len_utf8()))
            .collect(),
        (Err(_), false) => text.split(separator).collect(),
    }
}

/// The bytes of a split's parts, as [`size_of`] counts a list of them.
pub fn parts_bytes(parts: &[&str]) -> u64 {
    parts.iter().fold(0u64, |total, part| {
        total.saturating_add(ELEMENT_BYTES).saturating_add(length(part))
    })
}

fn exceeded(function: &str) -> ExecutionError {
    ExecutionError::function_error(function, "the evaluation exceeded its budget of bytes built")
}

fn is_string_or_list(value: &dyn Val) -> bool {
    matches!(value.get_type().kind(), Kind::String | Kind::Bytes | Kind::List)
}

/// `a + b`, charged when it joins strings, bytes or lists.
pub fn add<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let [left, right] = ftx.args.as_slice() else {
        return Err(ExecutionError::invalid_argument_count(2, ftx.args.len()));
    };
    let (left, right) = (left.as_ref(), right.as_ref());
    if is_string_or_list(left)
        && is_string_or_list(right)
        && !guard::charge(size_of(left).saturating_add(size_of(right)))
    {
        return Err(exceeded("_+_"));
    }
    let Some(adder) = left.as_adder() else {
        return Err(ExecutionError::UnsupportedBinaryOperator(
            "add",
            CelValue::try_from(left).unwrap_or(CelValue::Null),
            CelValue::try_from(right).unwrap_or(CelValue::Null),
        ));
    };
    let sum = adder.add(right)?.into_owned();
    Ok(CowVal::Owned(sum))
}

/// A value a list or map literal holds, once what cel copies is charged.
pub fn charge_value<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let value = pass_first(ftx)?;
    if !guard::charge(size_of(value.as_ref())) {
        return Err(exceeded("list"));
    }
    Ok(value)
}

/// The text `strings.quote` is given, once its quoted form (at most two
/// bytes per byte, and the quotes) is charged.
pub fn charge_quote<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let value = pass_first(ftx)?;
    let bytes = value
        .downcast_ref::<CelString>()
        .map_or(0, |text| length(text.inner()).saturating_mul(2).saturating_add(2));
    if !guard::charge(bytes) {
        return Err(exceeded("strings.quote"));
    }
    Ok(value)
}

fn pass_first<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    if ftx.args.len() != 1 {
        return Err(ExecutionError::invalid_argument_count(1, ftx.args.len()));
    }
    Ok(ftx.args.remove(0))
}

/// `list.join([separator])`: the strings of the list, charged, then joined.
pub fn join<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let separator = match ftx.args.len() {
        1 => "",
        2 => text_arg(ftx, 1).ok_or_else(|| ExecutionError::function_error("join", "the separator is not a string"))?,
        n => return Err(ExecutionError::invalid_argument_count(2, n)),
    };
    // On lists only, as cel's overload is declared: a map's keys would come
    // in hash order.
    let list = ftx
        .args
        .first()
        .filter(|l| l.get_type().kind() == Kind::List)
        .and_then(|l| l.as_iterable())
        .ok_or_else(|| ExecutionError::function_error("join", "works on a list of strings"))?;
    let mut parts = Vec::new();
    let mut elements = list.iter();
    while let Some(element) = elements.next() {
        let part = element
            .downcast_ref::<CelString>()
            .ok_or_else(|| ExecutionError::function_error("join", "the list holds a value that is not a string"))?;
        parts.push(part.inner());
    }
    if !guard::charge(join_bytes(parts.iter().map(|p| length(p)), length(separator))) {
        return Err(exceeded("join"));
    }
    Ok(CowVal::owned(CelString::from(parts.join(separator))))
}

/// `text.replace(old, new[, limit])`, charged, then replaced.
pub fn replace<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let (Some(text), Some(old), Some(new)) = (text_arg(ftx, 0), text_arg(ftx, 1), text_arg(ftx, 2)) else {
        return Err(ExecutionError::function_error(
            "replace",
            "takes strings: text.replace(old, new[, limit])",
        ));
    };
    let limit = limit_arg(ftx, 3, "replace")?;
    if !guard::charge(replace_bytes(text, old, new, limit)) {
        return Err(exceeded("replace"));
    }
    let replaced = match usize::try_from(limit) {
        Ok(limit) => text.replacen(old, new, limit),
        Err(_) => text.replace(old, new),
    };
    Ok(CowVal::owned(CelString::from(replaced)))
}

/// `text.split(separator[, limit])`, charged, then split.
pub fn split_function<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let (Some(text), Some(separator)) = (text_arg(ftx, 0), text_arg(ftx, 1)) else {
        return Err(ExecutionError::function_error(
            "split",
            "takes strings: text.split(separator[, limit])",
        ));
    };
    let limit = limit_arg(ftx, 2, "split")?;
    let parts = split(text, separator, limit);
    if !guard::charge(parts_bytes(&parts)) {
        return Err(exceeded("split"));
    }
    let list: Vec<Box<dyn Val>> = parts
        .into_iter()
        .map(|part| Box::new(CelString::from(part.to_owned())) as Box<dyn Val>)
        .collect();
    Ok(CowVal::owned(CelList::from(list)))
}

/// The optional limit argument at `at` of `function`: every occurrence
/// (-1) when it is absent.
fn limit_arg(ftx: &FunctionContext<'_, '_>, at: usize, function: &str) -> Result<i64, ExecutionError> {
    match ftx.args.get(at) {
        None => Ok(-1),
        Some(limit) => limit
            .downcast_ref::<CelInt>()
            .map(|limit| *limit.inner())
            .ok_or_else(|| ExecutionError::function_error(function, "the limit is not an int")),
    }
}

fn text_arg<'a>(ftx: &'a FunctionContext<'_, '_>, at: usize) -> Option<&'a str> {
    ftx.args
        .get(at)
        .and_then(|a| a.downcast_ref::<CelString>())
        .map(CelString::inner)
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
        return Err(ExecutionError::function_error(
            "matches",
            "takes a string and a pattern: text.matches('^[a-z]+$')",
        ));
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
    fn joins_and_splits_are_sized_by_what_they_build() {
        assert_eq!(join_bytes([3, 4, 5].into_iter(), 2), 16);
        assert_eq!(join_bytes([].into_iter(), 2), 0);
        assert_eq!(parts_bytes(&split("a,bc", ",", -1)), 2 * ELEMENT_BYTES + 3);
    }

    #[test]
    fn splits_are_cels() {
        assert_eq!(split("a,b,c", ",", 2), ["a", "b,c"]);
        assert_eq!(split("abc", "", 2), ["a", "bc"]);
        assert_eq!(split("abc", "", -1), ["a", "b", "c"]);
        assert_eq!(split("abc", ",", 0), Vec::<&str>::new());
        assert_eq!(split("", ",", -1), [""]);
    }
}
