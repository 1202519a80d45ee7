//! Static and dynamic bounds on CEL, as Kubernetes bounds admission
//! policies: the AST is measured before it runs (depth, node count,
//! comprehension nesting), every comprehension range is wrapped in a
//! counting iterator, every call that builds a string or a list is charged
//! for what it builds before it builds it ([`super::cost`]), and each
//! evaluation has a step budget, a byte budget and a deadline from its
//! start. No policy can hang the run, exhaust memory or overflow the stack.

use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue, operators};
use cel::common::traits::{Iterable, Iterator as CelIterator};
use cel::common::types::Type;
use cel::common::types::{CelMap, CelMapKey};
use cel::common::value::{CowVal, Val};
use cel::{ExecutionError, FunctionContext, IdedExpr};
use std::cell::Cell;
use std::time::Duration;

/// The function every comprehension range is passed through. Its name is not
/// a CEL identifier, so no policy can call or shadow it.
pub const BUDGET_FUNCTION: &str = "@budget";

/// The stack of the thread that compiles and evaluates policies.
pub const ENGINE_STACK_BYTES: usize = 256 << 20;

/// Stack a debug build uses per level of AST recursion, with a wide margin.
const STACK_BYTES_PER_LEVEL: usize = 64 << 10;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_expression_bytes: usize,
    pub max_ast_depth: usize,
    pub max_ast_nodes: usize,
    pub max_comprehension_nesting: usize,
    /// Comprehension steps one evaluation may take.
    pub max_steps: u64,
    /// Bytes of strings and lists one evaluation may build, all its calls
    /// together (a list element counts [`super::cost::LIST_ELEMENT_BYTES`]).
    pub max_built_bytes: u64,
    /// Wall time one evaluation (one policy on one entity) may take, from
    /// its start.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_expression_bytes: 16 << 10,
            max_ast_depth: ENGINE_STACK_BYTES / STACK_BYTES_PER_LEVEL,
            max_ast_nodes: 10_000,
            max_comprehension_nesting: 3,
            max_steps: 1_000_000,
            max_built_bytes: 32 << 20,
            deadline: Duration::from_secs(2),
        }
    }
}

/// Checks the shape of a compiled expression and wraps every comprehension
/// range in [`BUDGET_FUNCTION`]. Walks with an explicit stack: the AST may be
/// deeper than any recursion could afford.
///
/// `variables` are the names the engine binds; with the comprehension
/// variables in scope, they are the names whose selections become indexes
/// (see [`select_as_index`]).
pub fn check_and_instrument(expr: &mut IdedExpr, limits: &Limits, variables: &[&str]) -> Result<(), String> {
    let mut nodes = 0usize;
    // Each scope: its parent and the names it binds; scope 0 is the engine's.
    let mut scopes: Vec<(usize, Vec<String>)> = vec![(0, variables.iter().map(|v| v.to_string()).collect())];
    let mut stack: Vec<(&mut IdedExpr, usize, usize, usize)> = vec![(expr, 1, 0, 0)];
    while let Some((node, depth, nesting, scope)) = stack.pop() {
        nodes += 1;
        if depth > limits.max_ast_depth {
            return Err(format!(
                "the expression nests deeper than {} levels",
                limits.max_ast_depth
            ));
        }
        if nodes > limits.max_ast_nodes {
            return Err(format!("the expression has more than {} nodes", limits.max_ast_nodes));
        }
        select_as_index(node, |name| is_bound(&scopes, scope, name));
        negation_as_conditional(node);
        super::cost::instrument(node)?;
        match &mut node.expr {
            Expr::Unspecified => return Err("the expression has an empty part".into()),
            Expr::Ident(_) | Expr::Literal(_) => {}
            Expr::Call(call) => {
                if let Some(target) = call.target.as_deref_mut() {
                    stack.push((target, depth + 1, nesting, scope));
                }
                stack.extend(call.args.iter_mut().map(|a| (a, depth + 1, nesting, scope)));
            }
            Expr::Select(select) => stack.push((&mut select.operand, depth + 1, nesting, scope)),
            Expr::List(list) => stack.extend(list.elements.iter_mut().map(|e| (e, depth + 1, nesting, scope))),
            Expr::Map(map) => {
                for entry in &mut map.entries {
                    if let EntryExpr::MapEntry(entry) = &mut entry.expr {
                        stack.push((&mut entry.key, depth + 1, nesting, scope));
                        stack.push((&mut entry.value, depth + 1, nesting, scope));
                    }
                }
            }
            Expr::Struct(_) => return Err("message literals are not supported".into()),
            Expr::Comprehension(comprehension) => {
                if nesting + 1 > limits.max_comprehension_nesting {
                    return Err(format!(
                        "comprehensions nest deeper than {} levels",
                        limits.max_comprehension_nesting
                    ));
                }
                let range = std::mem::take(&mut comprehension.iter_range);
                comprehension.iter_range = IdedExpr {
                    id: range.id,
                    expr: Expr::Call(cel::common::ast::CallExpr {
                        func_name: BUDGET_FUNCTION.to_string(),
                        target: None,
                        args: vec![range],
                    }),
                };
                let names = std::iter::once(&comprehension.iter_var)
                    .chain(&comprehension.iter_var2)
                    .chain(std::iter::once(&comprehension.accu_var))
                    .cloned()
                    .collect();
                scopes.push((scope, names));
                let inner = scopes.len() - 1;
                stack.push((&mut comprehension.iter_range, depth + 2, nesting, scope));
                stack.push((&mut comprehension.accu_init, depth + 1, nesting, scope));
                stack.push((&mut comprehension.loop_cond, depth + 1, nesting + 1, inner));
                stack.push((&mut comprehension.loop_step, depth + 1, nesting + 1, inner));
                stack.push((&mut comprehension.result, depth + 1, nesting, inner));
            }
        }
    }
    Ok(())
}

/// Whether `name` is bound in `scope` or a scope around it.
fn is_bound(scopes: &[(usize, Vec<String>)], mut scope: usize, name: &str) -> bool {
    loop {
        let Some((parent, names)) = scopes.get(scope) else {
            return false;
        };
        if names.iter().any(|n| n == name) {
            return true;
        }
        if scope == 0 {
            return false;
        }
        scope = *parent;
    }
}

/// Rewrites `a.b` as `a['b']` when `a` is a bound variable: the same lookup
/// on a map, but cel resolves a selection on a name as a qualified name
/// first (joining the segments into a new string and looking up every
/// prefix in every scope), which cost a fifth of the evaluation. `has(a.b)`
/// keeps its selection, and so does a name that is not a variable (a type
/// such as `google.protobuf.Duration`).
fn select_as_index(node: &mut IdedExpr, bound: impl Fn(&str) -> bool) {
    let Expr::Select(select) = &mut node.expr else {
        return;
    };
    // The root of the chain: `a.b.c` and `a['b'].c` both start at `a`.
    let mut root = &select.operand.expr;
    loop {
        root = match root {
            Expr::Select(inner) if !inner.test => &inner.operand.expr,
            Expr::Call(call) if call.func_name == operators::INDEX => match call.args.as_slice() {
                [
                    operand,
                    IdedExpr {
                        expr: Expr::Literal(LiteralValue::String(_)),
                        ..
                    },
                ] => &operand.expr,
                _ => return,
            },
            _ => break,
        };
    }
    if select.test || !matches!(root, Expr::Ident(name) if bound(name)) {
        return;
    }
    let operand = std::mem::take(&mut *select.operand);
    let field = std::mem::take(&mut select.field);
    node.expr = Expr::Call(CallExpr {
        func_name: operators::INDEX.to_string(),
        target: None,
        args: vec![
            operand,
            IdedExpr {
                id: node.id,
                expr: Expr::Literal(LiteralValue::String(field.into())),
            },
        ],
    });
}

/// Rewrites `!x` as `x ? false : true`: the same value, and an error for a
/// value that is not a boolean, but cel builds the error of `!` (formatting
/// the operand's type) before it knows whether it needs it, on every use.
fn negation_as_conditional(node: &mut IdedExpr) {
    let Expr::Call(call) = &mut node.expr else {
        return;
    };
    if call.func_name != operators::LOGICAL_NOT || call.target.is_some() || call.args.len() != 1 {
        return;
    }
    let literal = |value: bool| IdedExpr {
        id: node.id,
        expr: Expr::Literal(LiteralValue::Boolean(value.into())),
    };
    call.func_name = operators::CONDITIONAL.to_string();
    call.args.push(literal(false));
    call.args.push(literal(true));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhausted {
    Steps,
    Bytes,
    Deadline,
}

struct Budget {
    steps_left: Cell<u64>,
    bytes_left: Cell<u64>,
    /// Whether a step or a charge was taken: an evaluation with neither is
    /// bounded by its AST, and its end does not read the clock.
    worked: Cell<bool>,
    /// On [`now`]'s clock.
    deadline: Cell<u64>,
    exhausted: Cell<Option<Exhausted>>,
}

thread_local! {
    static BUDGET: Budget = const { Budget {
        steps_left: Cell::new(u64::MAX),
        bytes_left: Cell::new(u64::MAX),
        worked: Cell::new(false),
        deadline: Cell::new(u64::MAX),
        exhausted: Cell::new(None),
    } };
}

/// Nanoseconds on a monotonic clock. On Linux, the coarse clock: a read
/// costs a few nanoseconds (the precise one added a sixth to evaluation,
/// read once per evaluation), and its tick of a few milliseconds is fine
/// against deadlines of seconds.
#[cfg(target_os = "linux")]
fn now() -> u64 {
    let time = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(time.tv_nsec).unwrap_or(0);
    seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
}

#[cfg(not(target_os = "linux"))]
fn now() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let elapsed = EPOCH.get_or_init(std::time::Instant::now).elapsed();
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

/// Starts the budget of one evaluation on this thread: its deadline runs
/// from now.
pub fn start(limits: &Limits) {
    BUDGET.with(|b| {
        b.steps_left.set(limits.max_steps);
        b.bytes_left.set(limits.max_built_bytes);
        b.worked.set(false);
        let allowed = u64::try_from(limits.deadline.as_nanos()).unwrap_or(u64::MAX);
        b.deadline.set(now().saturating_add(allowed));
        b.exhausted.set(None);
    });
}

/// Whether the evaluation that ran since [`start`] ran out of budget.
pub fn exhausted() -> Option<Exhausted> {
    BUDGET.with(|b| {
        if b.exhausted.get().is_none() && b.worked.get() && past(b.deadline.get()) {
            b.exhausted.set(Some(Exhausted::Deadline));
        }
        b.exhausted.get()
    })
}

/// Whether the deadline has come (a deadline of zero has, at once).
fn past(deadline: u64) -> bool {
    now() >= deadline
}

/// Takes one step; `false` once the budget is spent. The clock is read every
/// 1024 steps, so the deadline costs next to nothing.
pub(super) fn step() -> bool {
    BUDGET.with(|b| {
        if b.exhausted.get().is_some() {
            return false;
        }
        let left = b.steps_left.get();
        if left == 0 {
            b.exhausted.set(Some(Exhausted::Steps));
            return false;
        }
        b.steps_left.set(left - 1);
        b.worked.set(true);
        if left % 1024 == 0 && past(b.deadline.get()) {
            b.exhausted.set(Some(Exhausted::Deadline));
            return false;
        }
        true
    })
}

/// What is left of this evaluation's budget.
pub(super) fn left() -> Spent {
    BUDGET.with(|b| Spent {
        steps: b.steps_left.get(),
        bytes: b.bytes_left.get(),
    })
}

/// Steps and bytes of a budget: what is left, or what a part took.
#[derive(Clone, Copy, Debug)]
pub struct Spent {
    pub steps: u64,
    pub bytes: u64,
}

impl Spent {
    /// What was taken from `self` (an earlier [`left`]) to `now`.
    pub fn until(self, now: Spent) -> Spent {
        Spent {
            steps: self.steps.saturating_sub(now.steps),
            bytes: self.bytes.saturating_sub(now.bytes),
        }
    }
}

/// Takes again what a part took when it was computed: a part kept from an
/// earlier evaluation costs what computing it again would, as it does in
/// cel, which computes it every time.
pub(super) fn spend(again: Spent) -> bool {
    let steps_ok = BUDGET.with(|b| {
        if b.exhausted.get().is_some() {
            return false;
        }
        match b.steps_left.get().checked_sub(again.steps) {
            Some(left) => {
                b.steps_left.set(left);
                b.worked.set(b.worked.get() || again.steps > 0);
                true
            }
            None => {
                b.exhausted.set(Some(Exhausted::Steps));
                false
            }
        }
    });
    steps_ok && charge(again.bytes)
}

/// Charges `bytes` about to be built; `false` (and nothing may be built)
/// once the budget is spent. A large charge reads the clock: building takes
/// time too.
pub(super) fn charge(bytes: u64) -> bool {
    BUDGET.with(|b| {
        if b.exhausted.get().is_some() {
            return false;
        }
        let Some(left) = b.bytes_left.get().checked_sub(bytes) else {
            b.exhausted.set(Some(Exhausted::Bytes));
            return false;
        };
        b.bytes_left.set(left);
        b.worked.set(true);
        if bytes >= 1 << 16 && past(b.deadline.get()) {
            b.exhausted.set(Some(Exhausted::Deadline));
            return false;
        }
        true
    })
}

/// The implementation of [`BUDGET_FUNCTION`]: wraps its argument in an
/// iterable that takes a step per element and stops when the budget is spent.
pub fn budget_function<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    if ftx.args.len() != 1 {
        return Err(ExecutionError::invalid_argument_count(1, ftx.args.len()));
    }
    let inner = ftx.args.remove(0).into_owned();
    Ok(CowVal::Owned(Box::new(Budgeted { inner })))
}

#[derive(Debug)]
struct Budgeted<'v> {
    inner: Box<dyn Val + 'v>,
}

impl<'v> Val for Budgeted<'v> {
    fn get_type(&self) -> &Type {
        self.inner.get_type()
    }
    fn cel_type() -> &'static Type
    where
        Self: Sized,
    {
        &cel::common::types::DYN_TYPE
    }
    fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
    where
        Self: 'w,
    {
        self.inner.as_iterable().map(|_| self as &dyn Iterable)
    }
    fn as_sizer(&self) -> Option<&dyn cel::common::traits::Sizer> {
        self.inner.as_sizer()
    }
    fn equals(&self, other: &dyn Val) -> bool {
        self.inner.equals(other)
    }
    fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
    where
        Self: 'w,
    {
        Box::new(Budgeted {
            inner: self.inner.clone_as_boxed(),
        })
    }
}

impl<'v> Iterable for Budgeted<'v> {
    fn iter<'b, 'w>(&'b self) -> Box<dyn CelIterator<'b, 'w> + 'b>
    where
        Self: 'w,
    {
        // cel's maps iterate in hash order, which changes from run to run:
        // their keys are iterated sorted, so output is the same every run.
        if let Some(map) = self.inner.downcast_ref::<CelMap<'v>>() {
            let mut keys: Vec<&'b CelMapKey<'v>> = map.inner().keys().collect();
            keys.sort_by(|a, b| key_order(a).cmp(&key_order(b)));
            let inner: Box<dyn CelIterator<'b, 'v> + 'b> = Box::new(SortedKeys { keys: keys.into_iter() });
            return Box::new(Counted { inner });
        }
        let iterable: Option<&'b (dyn Iterable + 'v)> = self.inner.as_iterable();
        match iterable {
            Some(iterable) => {
                let inner: Box<dyn CelIterator<'b, 'v> + 'b> = iterable.iter();
                Box::new(Counted { inner })
            }
            None => Box::new(Empty),
        }
    }
}

/// Lends the elements of another iterator, a step of the budget each.
struct Counted<'b, 'v> {
    inner: Box<dyn CelIterator<'b, 'v> + 'b>,
}

impl<'b, 'v: 'w, 'w> CelIterator<'b, 'w> for Counted<'b, 'v> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        if step() {
            self.inner.next().map(|v| v as &'b (dyn Val + 'w))
        } else {
            None
        }
    }
}

/// Map keys in a fixed order: booleans, integers, unsigned integers, then
/// strings, each by value.
fn key_order<'k>(key: &'k CelMapKey<'_>) -> (u8, i128, &'k str) {
    match key {
        CelMapKey::Bool(b) => (0, i128::from(*b.inner()), ""),
        CelMapKey::Int(i) => (1, i128::from(*i.inner()), ""),
        CelMapKey::UInt(u) => (2, i128::from(*u.inner()), ""),
        CelMapKey::String(s) => (3, 0, s.inner()),
    }
}

/// A map's keys, in order.
struct SortedKeys<'b, 'v> {
    keys: std::vec::IntoIter<&'b CelMapKey<'v>>,
}

impl<'b, 'v: 'w, 'w> CelIterator<'b, 'w> for SortedKeys<'b, 'v> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        self.keys.next().map(|key| key.inner() as &'b (dyn Val + 'w))
    }
}

struct Empty;

impl<'b, 'w> CelIterator<'b, 'w> for Empty {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expression after instrumenting, with selections shown as `.f`
    /// and the indexes they became as `['f']`.
    fn instrumented(text: &str) -> String {
        let program = cel::Env::stdlib().compile(text).expect("compiles");
        let mut ast = program.expression().clone();
        check_and_instrument(&mut ast, &Limits::default(), &["object"]).expect("within limits");
        show(&ast.expr)
    }

    fn show(expr: &Expr) -> String {
        match expr {
            Expr::Ident(name) => name.clone(),
            Expr::Select(select) if select.test => format!("has({}.{})", show(&select.operand.expr), select.field),
            Expr::Select(select) => format!("{}.{}", show(&select.operand.expr), select.field),
            Expr::Literal(LiteralValue::String(s)) => format!("'{}'", s.inner()),
            Expr::Literal(LiteralValue::Boolean(b)) => format!("{}", bool::from(*b)),
            Expr::Call(call) if call.func_name == operators::INDEX => match call.args.as_slice() {
                [operand, index] => format!("{}[{}]", show(&operand.expr), show(&index.expr)),
                _ => unreachable!("an index has two arguments"),
            },
            Expr::Call(call) => format!(
                "{}({})",
                call.func_name,
                call.args.iter().map(|a| show(&a.expr)).collect::<Vec<_>>().join(", ")
            ),
            Expr::Comprehension(c) => format!(
                "for {} in {}: {}",
                c.iter_var,
                show(&c.iter_range.expr),
                show(&c.loop_step.expr)
            ),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn the_deadline_runs_from_the_start_of_an_evaluation() {
        let limits = Limits {
            deadline: Duration::ZERO,
            ..Limits::default()
        };
        start(&limits);
        // No step was taken before the deadline passed: the first large
        // charge sees it.
        assert!(!charge(1 << 16));
        assert_eq!(exhausted(), Some(Exhausted::Deadline));
    }

    #[test]
    fn charges_past_the_byte_budget_are_refused() {
        let limits = Limits {
            max_built_bytes: 100,
            ..Limits::default()
        };
        start(&limits);
        assert!(charge(60));
        assert!(!charge(41));
        assert_eq!(exhausted(), Some(Exhausted::Bytes));
        assert!(!charge(0), "nothing more once spent");
    }

    #[test]
    fn selections_on_bound_names_become_indexes() {
        assert_eq!(instrumented("object.a.b"), "object['a']['b']");
        assert_eq!(instrumented("has(object.a.b)"), "has(object['a'].b)");
        assert_eq!(instrumented("google.protobuf.Duration"), "google.protobuf.Duration");
        assert_eq!(instrumented("!has(object.a)"), "_?_:_(has(object.a), false, true)");
        assert_eq!(
            instrumented("object.units.exists(u, u.name == object.name)"),
            "for u in @budget(object['units']): _||_(@result, _==_(u['name'], object['name']))"
        );
    }
}
