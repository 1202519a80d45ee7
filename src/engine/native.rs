//! Native evaluation: a policy's expressions compiled from cel's AST to a
//! tree over the model's own values. Names become slots when the policy is
//! compiled, a part of an expression that depends only on the model is
//! computed once per thread, and entities are shared, never converted. cel's
//! interpreter looks every name up by string in a chain of scopes and boxes
//! every value it makes; that was most of the time spent evaluating.
//!
//! It covers what policies are written in: the operators, the macros,
//! `size`, the string functions and the model's views, with cel's meaning.
//! Anything else (another function, a mix of types, any error) is
//! [`Unsupported`], and the engine evaluates that policy on that entity with
//! cel's interpreter instead. So results and error texts are always cel's.

use super::value::{EntityVal, GroupIndex, KeyedList, ModelVal};
use super::{cost, guard};
use crate::model::{COLLECTIONS, Field, Value as FieldValue};
use cel::IdedExpr;
use cel::common::ast::{ComprehensionExpr, Expr, LiteralValue, operators};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::sync::Arc;

/// What native evaluation does not do: cel's interpreter does it.
#[derive(Debug)]
pub struct Unsupported;

pub type Outcome<T> = Result<T, Unsupported>;

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Arc<str>),
    Entity(EntityVal),
    List(KeyedList),
    Group(GroupIndex),
    /// A CEL list: a literal, or what `map`, `filter` or `split` make.
    Items(Arc<Vec<Value>>),
    /// A map keyed by strings: a map field, or `{}`.
    Map(Arc<Vec<(Arc<str>, Value)>>),
}

/// A part of an expression over the model alone, computed once per thread:
/// its value (none when it could not be computed natively) and what it took.
type Cached = OnceCell<Option<(Value, guard::Spent)>>;

/// One expression, compiled.
#[derive(Debug)]
pub enum Node {
    Literal(Value),
    Object,
    /// `model.<collection>`, by index in [`COLLECTIONS`].
    Collection(usize),
    /// `variables.<name>`, by declaration order.
    Variable(usize),
    /// A comprehension's variable or accumulator, by slot.
    Local(usize),
    /// A part that depends only on the model, by slot of the thread's cache.
    Constant(usize, Box<Node>),
    Index(Box<Node>, Box<Node>),
    /// `operand['key']`: an index by a string literal, which is not
    /// evaluated each time.
    Key(Box<Node>, Value),
    Select(Box<Node>, Arc<str>),
    /// `object.name` (the guard's `object['name']`): the commonest part of
    /// a policy, in one step instead of three.
    ObjectField(Arc<str>),
    Has(Box<Node>, Arc<str>),
    /// `has(object.name)`.
    ObjectHas(Arc<str>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Conditional(Box<Node>, Box<Node>, Box<Node>),
    NotStrictlyFalse(Box<Node>),
    Equals(Box<Node>, Box<Node>),
    NotEquals(Box<Node>, Box<Node>),
    Compare(Box<Node>, Box<Node>, fn(Ordering) -> bool),
    In(Box<Node>, Box<Node>),
    Add(Box<Node>, Box<Node>),
    List(Vec<Node>),
    EmptyMap,
    /// A function; a method's target is the first argument. [`function`]
    /// knows none that takes more than two in all.
    Call(Function, Vec<Node>),
    /// `text.matches('literal')`: the expression compiled once, with the
    /// policy, instead of once per evaluation.
    Matches(Box<Node>, Arc<regex::Regex>),
    /// A value a list literal holds, charged as cel copies it.
    Charged(Box<Node>),
    Comprehension(Box<Comprehension>),
    Unsupported,
}

#[derive(Clone, Copy, Debug)]
pub enum Function {
    Size,
    StartsWith,
    EndsWith,
    Contains,
    Split,
    Join,
    String,
    GroupBy,
    Having,
    Before,
}

#[derive(Debug)]
pub struct Comprehension {
    range: Node,
    item: usize,
    accumulator: usize,
    init: Node,
    condition: Node,
    step: Step,
    result: Node,
}

#[derive(Debug)]
enum Step {
    /// `map` and `filter`: `@result + [items]`, perhaps behind a guard, into
    /// a list built in place (as cel does for this shape).
    Append { guard: Option<Node>, items: Vec<Node> },
    /// Anything else: the accumulator becomes the step's value.
    Fold(Node),
}

/// What a compiled part depends on; the order is "depends on more".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    Fixed,
    Model,
    Dynamic,
}

/// Compiles the expressions of one policy: they share its slots.
pub struct Compiler<'p> {
    variables: &'p [Arc<str>],
    has_object: bool,
    /// Comprehension names in scope, innermost last, with their slots.
    scopes: Vec<(String, usize)>,
    /// Slots for comprehension variables the policy needs.
    pub locals: usize,
    /// Slots for model-only parts the policy caches.
    pub constants: usize,
}

impl<'p> Compiler<'p> {
    pub fn new(variables: &'p [Arc<str>], has_object: bool) -> Compiler<'p> {
        Compiler {
            variables,
            has_object,
            scopes: Vec::new(),
            locals: 0,
            constants: 0,
        }
    }

    pub fn compile(&mut self, expr: &IdedExpr) -> Node {
        let (node, reach) = self.node(expr);
        self.cached(node, reach)
    }

    /// `node` behind a cache slot if it depends on the model alone.
    fn cached(&mut self, node: Node, reach: Reach) -> Node {
        if reach != Reach::Model || matches!(node, Node::Collection(_) | Node::Literal(_)) {
            return node;
        }
        self.constants += 1;
        Node::Constant(self.constants - 1, Box::new(node))
    }

    /// Compiles the parts of a node; when the node is dynamic, its model-only
    /// parts are cached.
    fn parts<const N: usize>(&mut self, exprs: [&IdedExpr; N]) -> ([Box<Node>; N], Reach) {
        let compiled = exprs.map(|e| self.node(e));
        let reach = compiled.iter().map(|(_, r)| *r).max().unwrap_or(Reach::Fixed);
        let nodes = compiled.map(|(node, own)| Box::new(self.part(node, own, reach)));
        (nodes, reach)
    }

    fn part(&mut self, node: Node, own: Reach, whole: Reach) -> Node {
        if whole == Reach::Dynamic {
            self.cached(node, own)
        } else {
            node
        }
    }

    fn many<'e>(&mut self, exprs: impl IntoIterator<Item = &'e IdedExpr>) -> (Vec<Node>, Reach) {
        let compiled: Vec<(Node, Reach)> = exprs.into_iter().map(|e| self.node(e)).collect();
        let reach = compiled.iter().map(|(_, r)| *r).max().unwrap_or(Reach::Fixed);
        let nodes = compiled
            .into_iter()
            .map(|(node, own)| self.part(node, own, reach))
            .collect();
        (nodes, reach)
    }

    fn local(&self, name: &str) -> Option<usize> {
        self.scopes.iter().rev().find(|(n, _)| n == name).map(|(_, slot)| *slot)
    }

    fn node(&mut self, expr: &IdedExpr) -> (Node, Reach) {
        match &expr.expr {
            Expr::Literal(literal) => match literal_value(literal) {
                Some(value) => (Node::Literal(value), Reach::Fixed),
                None => (Node::Unsupported, Reach::Dynamic),
            },
            Expr::Ident(name) => match self.local(name) {
                Some(slot) => (Node::Local(slot), Reach::Dynamic),
                None if name == super::OBJECT && self.has_object => (Node::Object, Reach::Dynamic),
                None => (Node::Unsupported, Reach::Dynamic),
            },
            Expr::Select(select) => {
                let ([operand], reach) = self.parts([&select.operand]);
                let field = Arc::from(select.field.as_str());
                match (select.test, *operand) {
                    (true, Node::Object) => (Node::ObjectHas(field), reach),
                    (true, operand) => (Node::Has(Box::new(operand), field), reach),
                    (false, Node::Object) => (Node::ObjectField(field), reach),
                    (false, operand) => (Node::Select(Box::new(operand), field), reach),
                }
            }
            Expr::List(list) if list.optional_indices.is_empty() => {
                let (items, reach) = self.many(&list.elements);
                // A list of literals (`x in ['aws', 's3']`) is made once.
                let literals: Option<Vec<Value>> = items
                    .iter()
                    .map(|item| match item {
                        Node::Literal(value) => Some(value.clone()),
                        _ => None,
                    })
                    .collect();
                match literals {
                    Some(values) => (Node::Literal(Value::Items(Arc::new(values))), Reach::Fixed),
                    None => (Node::List(items), reach),
                }
            }
            Expr::Map(map) if map.entries.is_empty() => (Node::EmptyMap, Reach::Fixed),
            Expr::Call(call) => self.call(&call.func_name, call.target.as_deref(), &call.args),
            Expr::Comprehension(comprehension) => self.comprehension(comprehension),
            _ => (Node::Unsupported, Reach::Dynamic),
        }
    }

    fn call(&mut self, name: &str, target: Option<&IdedExpr>, args: &[IdedExpr]) -> (Node, Reach) {
        if let (
            None,
            [
                operand,
                IdedExpr {
                    expr: Expr::Literal(LiteralValue::String(key)),
                    ..
                },
            ],
        ) = (target, args)
            && name == operators::INDEX
        {
            if let Expr::Ident(root) = &operand.expr
                && (root == super::MODEL || root == super::VARIABLES)
                && self.local(root).is_none()
            {
                return self.root_index(root, key.inner());
            }
            // With a literal key the whole depends on what the operand does.
            let key: Arc<str> = Arc::from(key.inner());
            return match self.node(operand) {
                (Node::Object, reach) => (Node::ObjectField(key), reach),
                (operand, reach) => (Node::Key(Box::new(operand), Value::Str(key)), reach),
            };
        }
        let binary = |this: &mut Self, build: fn(Box<Node>, Box<Node>) -> Node| match (target, args) {
            (None, [left, right]) => {
                let ([left, right], reach) = this.parts([left, right]);
                (build(left, right), reach)
            }
            _ => (Node::Unsupported, Reach::Dynamic),
        };
        let compare = |this: &mut Self, holds: fn(Ordering) -> bool| match (target, args) {
            (None, [left, right]) => {
                let ([left, right], reach) = this.parts([left, right]);
                (Node::Compare(left, right, holds), reach)
            }
            _ => (Node::Unsupported, Reach::Dynamic),
        };
        match name {
            operators::INDEX => binary(self, Node::Index),
            operators::LOGICAL_AND => binary(self, Node::And),
            operators::LOGICAL_OR => binary(self, Node::Or),
            operators::EQUALS => binary(self, Node::Equals),
            operators::NOT_EQUALS => binary(self, Node::NotEquals),
            operators::IN => binary(self, Node::In),
            operators::ADD | cost::ADD => binary(self, Node::Add),
            operators::LESS => compare(self, Ordering::is_lt),
            operators::LESS_EQUALS => compare(self, Ordering::is_le),
            operators::GREATER => compare(self, Ordering::is_gt),
            operators::GREATER_EQUALS => compare(self, Ordering::is_ge),
            operators::CONDITIONAL => match (target, args) {
                (None, [condition, then, otherwise]) => {
                    let ([condition, then, otherwise], reach) = self.parts([condition, then, otherwise]);
                    (Node::Conditional(condition, then, otherwise), reach)
                }
                _ => (Node::Unsupported, Reach::Dynamic),
            },
            operators::NOT_STRICTLY_FALSE => match (target, args) {
                (None, [operand]) => {
                    let ([operand], reach) = self.parts([operand]);
                    (Node::NotStrictlyFalse(operand), reach)
                }
                _ => (Node::Unsupported, Reach::Dynamic),
            },
            // The guard wraps every comprehension range in a step counter;
            // native comprehensions count their steps themselves.
            guard::BUDGET_FUNCTION => match (target, args) {
                (None, [range]) => self.node(range),
                _ => (Node::Unsupported, Reach::Dynamic),
            },
            cost::CHARGE_VALUE => match (target, args) {
                (None, [value]) => {
                    let ([value], reach) = self.parts([value]);
                    (Node::Charged(value), reach)
                }
                _ => (Node::Unsupported, Reach::Dynamic),
            },
            cost::MATCHES => match (target, args) {
                (None, [text, pattern]) => self.matches(text, pattern),
                _ => (Node::Unsupported, Reach::Dynamic),
            },
            _ => match function(name, target.is_some(), args.len()) {
                Some(function) => {
                    let (nodes, reach) = self.many(target.into_iter().chain(args));
                    (Node::Call(function, nodes), reach)
                }
                None => (Node::Unsupported, Reach::Dynamic),
            },
        }
    }

    /// `model.x` and `variables.x` (the guard made both indexes).
    fn root_index(&mut self, root: &str, key: &str) -> (Node, Reach) {
        if root == super::MODEL
            && let Some(index) = COLLECTIONS.iter().position(|c| *c == key)
        {
            return (Node::Collection(index), Reach::Model);
        }
        if root == super::VARIABLES
            && let Some(index) = self.variables.iter().position(|v| v.as_ref() == key)
        {
            return (Node::Variable(index), Reach::Dynamic);
        }
        (Node::Unsupported, Reach::Dynamic)
    }

    fn comprehension(&mut self, comprehension: &ComprehensionExpr) -> (Node, Reach) {
        if comprehension.iter_var2.is_some() {
            return (Node::Unsupported, Reach::Dynamic);
        }
        let ([range, init], _) = self.parts([&comprehension.iter_range, &comprehension.accu_init]);
        let item = self.slot();
        let accumulator = self.slot();
        let depth = self.scopes.len();
        self.scopes.push((comprehension.accu_var.clone(), accumulator));
        self.scopes.push((comprehension.iter_var.clone(), item));
        let condition = self.compile(&comprehension.loop_cond);
        let appends = matches!(&comprehension.accu_init.expr, Expr::List(list) if list.elements.is_empty())
            && matches!(&comprehension.result.expr, Expr::Ident(name) if *name == comprehension.accu_var)
            && matches!(comprehension.loop_cond.expr, Expr::Literal(_));
        let step = match appended(&comprehension.loop_step, &comprehension.accu_var).filter(|_| appends) {
            Some((guard, items)) => Step::Append {
                guard: guard.map(|g| self.compile(g)),
                items: items.iter().map(|i| self.compile(i)).collect(),
            },
            None => Step::Fold(self.compile(&comprehension.loop_step)),
        };
        let result = self.compile(&comprehension.result);
        self.scopes.truncate(depth);
        let comprehension = Comprehension {
            range: *range,
            item,
            accumulator,
            init: *init,
            condition,
            step,
            result,
        };
        (Node::Comprehension(Box::new(comprehension)), Reach::Dynamic)
    }

    /// `matches` with a literal pattern, compiled as cel compiles it (so it
    /// matches what cel matches); a pattern that is not a literal, or that
    /// does not compile, is left to cel, which reports the error.
    fn matches(&mut self, text: &IdedExpr, pattern: &IdedExpr) -> (Node, Reach) {
        let Expr::Literal(LiteralValue::String(pattern)) = &pattern.expr else {
            return (Node::Unsupported, Reach::Dynamic);
        };
        let Ok(expression) = cost::regex(pattern.inner()) else {
            return (Node::Unsupported, Reach::Dynamic);
        };
        let ([text], reach) = self.parts([text]);
        (Node::Matches(text, expression), reach)
    }

    fn slot(&mut self) -> usize {
        self.locals += 1;
        self.locals - 1
    }
}

/// The guard and the appended items of a `map` or `filter` step:
/// `@result + [items]`, or `guard ? @result + [items] : @result`.
fn appended<'e>(step: &'e IdedExpr, accumulator: &str) -> Option<(Option<&'e IdedExpr>, &'e [IdedExpr])> {
    let is_accumulator = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(name) if name == accumulator);
    let items = |e: &'e IdedExpr| match &e.expr {
        Expr::Call(call) if call.func_name == operators::ADD && call.target.is_none() => match call.args.as_slice() {
            [
                left,
                IdedExpr {
                    expr: Expr::List(list), ..
                },
            ] if is_accumulator(left) && list.optional_indices.is_empty() => Some(list.elements.as_slice()),
            _ => None,
        },
        _ => None,
    };
    match &step.expr {
        Expr::Call(call) if call.func_name == operators::CONDITIONAL && call.target.is_none() => {
            match call.args.as_slice() {
                [guard, then, otherwise] if is_accumulator(otherwise) => Some((Some(guard), items(then)?)),
                _ => None,
            }
        }
        _ => Some((None, items(step)?)),
    }
}

/// The function a call names, if native evaluation has it with that shape.
fn function(name: &str, method: bool, arity: usize) -> Option<Function> {
    Some(match (name, method, arity) {
        ("size", true, 0) | ("size", false, 1) => Function::Size,
        ("string", false, 1) => Function::String,
        ("startsWith", true, 1) => Function::StartsWith,
        ("endsWith", true, 1) => Function::EndsWith,
        ("contains", true, 1) => Function::Contains,
        (cost::SPLIT, false, 2) => Function::Split,
        (cost::JOIN, false, 1 | 2) => Function::Join,
        ("groupBy", true, 1) => Function::GroupBy,
        ("having", true, 1) => Function::Having,
        ("before", true, 1) => Function::Before,
        _ => return None,
    })
}

fn literal_value(literal: &LiteralValue) -> Option<Value> {
    Some(match literal {
        LiteralValue::Boolean(b) => Value::Bool(*b.inner()),
        LiteralValue::Int(i) => Value::Int(*i.inner()),
        LiteralValue::UInt(u) => Value::UInt(*u.inner()),
        LiteralValue::Double(d) => Value::Double(*d.inner()),
        LiteralValue::String(s) => Value::Str(Arc::from(s.inner())),
        LiteralValue::Null => Value::Null,
        LiteralValue::Bytes(_) => return None,
    })
}

/// What one thread keeps across the evaluations of a model.
pub struct Thread {
    /// The model's collections, by index in [`COLLECTIONS`].
    collections: Vec<Option<Value>>,
    /// The entity evaluated: the policies of a collection run one after the
    /// other on each entity, which is made a value once for all of them.
    object: Option<Value>,
    /// Per policy, its model-only parts once computed (`None`: unsupported).
    constants: Vec<Vec<Cached>>,
    locals: Vec<Value>,
    variables: Vec<Option<Value>>,
}

impl Thread {
    /// `constants`: how many cache slots each policy has, in engine order.
    pub fn new(model: &ModelVal, constants: impl Iterator<Item = usize>) -> Thread {
        Thread {
            collections: COLLECTIONS
                .iter()
                .map(|name| model.list(name).cloned().map(Value::List))
                .collect(),
            constants: constants.map(|n| (0..n).map(|_| OnceCell::new()).collect()).collect(),
            object: None,
            locals: Vec::new(),
            variables: Vec::new(),
        }
    }

    /// The scope of one evaluation of policy `policy` (in engine order).
    pub fn scope(&mut self, policy: usize, locals: usize, object: Option<&EntityVal>, variables: usize) -> Scope<'_> {
        let same = match (&self.object, object) {
            (Some(Value::Entity(current)), Some(object)) => current.same(object),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.object = object.cloned().map(Value::Entity);
        }
        self.locals.clear();
        self.locals.resize(locals, Value::Null);
        self.variables.clear();
        self.variables.resize(variables, None);
        Scope {
            env: Env {
                collections: &self.collections,
                constants: self.constants.get(policy).map_or(&[], Vec::as_slice),
                object: self.object.as_ref(),
                variables: &mut self.variables,
            },
            locals: &mut self.locals,
        }
    }
}

/// Everything an expression of one evaluation can name.
struct Env<'t> {
    collections: &'t [Option<Value>],
    constants: &'t [Cached],
    object: Option<&'t Value>,
    variables: &'t mut Vec<Option<Value>>,
}

/// One evaluation of a policy: its object, its variables as they are set,
/// and its comprehensions' slots.
pub struct Scope<'t> {
    env: Env<'t>,
    locals: &'t mut Vec<Value>,
}

impl Scope<'_> {
    pub fn evaluate(&mut self, node: &Node) -> Outcome<Value> {
        eval(node, &self.env, self.locals).map(Cow::into_owned)
    }

    /// Evaluates a condition or a validation: `Unsupported` unless it gives
    /// a boolean.
    pub fn holds(&mut self, node: &Node) -> Outcome<bool> {
        eval_bool(node, &self.env, self.locals)
    }

    pub fn set_variable(&mut self, index: usize, value: Value) {
        if let Some(slot) = self.env.variables.get_mut(index) {
            *slot = Some(value);
        }
    }
}

fn eval<'f>(node: &'f Node, env: &'f Env<'_>, locals: &mut [Value]) -> Outcome<Cow<'f, Value>> {
    let owned = |value: Value| Ok(Cow::Owned(value));
    match node {
        Node::Literal(value) => Ok(Cow::Borrowed(value)),
        Node::Object => env.object.map(Cow::Borrowed).ok_or(Unsupported),
        Node::Collection(index) => set_value(env.collections, *index),
        Node::Variable(index) => set_value(env.variables, *index),
        Node::Local(slot) => locals.get(*slot).cloned().map(Cow::Owned).ok_or(Unsupported),
        Node::Constant(slot, inner) => {
            let cell = env.constants.get(*slot).ok_or(Unsupported)?;
            if let Some(cached) = cell.get() {
                let (value, spent) = cached.as_ref().ok_or(Unsupported)?;
                let free = spent.steps == 0 && spent.bytes == 0;
                return if free || guard::spend(*spent) {
                    Ok(Cow::Borrowed(value))
                } else {
                    Err(Unsupported)
                };
            }
            let before = guard::left();
            let computed = eval(inner, env, &mut []).ok().map(Cow::into_owned);
            // A part cut short by the budget is not kept for later entities.
            if guard::exhausted().is_some() {
                return computed.map(Cow::Owned).ok_or(Unsupported);
            }
            let spent = before.until(guard::left());
            let cached = cell.get_or_init(|| computed.map(|value| (value, spent)));
            cached
                .as_ref()
                .map(|(value, _)| Cow::Borrowed(value))
                .ok_or(Unsupported)
        }
        Node::Index(operand, index) => {
            let operand = eval(operand, env, locals)?;
            match object_string(index, env) {
                Some(key) => owned(index_str(&operand, key)?),
                None => owned(self::index(&operand, &*eval(index, env, locals)?)?),
            }
        }
        Node::Key(operand, key) => owned(index(&*eval(operand, env, locals)?, key)?),
        Node::Select(operand, field) => owned(select(&*eval(operand, env, locals)?, field)?),
        Node::ObjectField(field) => owned(select(env.object.ok_or(Unsupported)?, field)?),
        Node::ObjectHas(_)
        | Node::Has(..)
        | Node::And(..)
        | Node::Or(..)
        | Node::NotStrictlyFalse(_)
        | Node::Equals(..)
        | Node::NotEquals(..)
        | Node::Compare(..)
        | Node::In(..) => owned(Value::Bool(eval_bool(node, env, locals)?)),
        Node::Conditional(condition, then, otherwise) => {
            if eval_bool(condition, env, locals)? {
                eval(then, env, locals)
            } else {
                eval(otherwise, env, locals)
            }
        }
        Node::Add(left, right) => {
            let left = eval(left, env, locals)?;
            owned(add(&left, &*eval(right, env, locals)?)?)
        }
        Node::Charged(value) => {
            let value = eval(value, env, locals)?;
            // Out of budget, cel evaluates it again and reports it.
            if !guard::charge(size_of(&value)) {
                return Err(Unsupported);
            }
            Ok(value)
        }
        Node::List(items) => {
            let values = items
                .iter()
                .map(|item| eval(item, env, locals).map(Cow::into_owned))
                .collect::<Outcome<Vec<Value>>>()?;
            owned(Value::Items(Arc::new(values)))
        }
        Node::EmptyMap => owned(Value::Map(Arc::default())),
        Node::Call(function, args) => {
            let first = args.first().map(|arg| eval(arg, env, locals)).transpose()?;
            let second = args.get(1).map(|arg| eval(arg, env, locals)).transpose()?;
            owned(call(*function, first.as_deref(), second.as_deref())?)
        }
        Node::Matches(operand, expression) => {
            let operand = eval(operand, env, locals)?;
            owned(Value::Bool(expression.is_match(text(&operand)?)))
        }
        Node::Comprehension(comprehension) => owned(comprehend(comprehension, env, locals)?),
        Node::Unsupported => Err(Unsupported),
    }
}

/// `node` where a boolean is wanted (a condition, a validation, an operand
/// of `&&`, `||`, `!` or `?:`): the operators that give booleans answer one
/// directly, without making a value for their caller to take apart. Any
/// other node is evaluated, and must give a boolean.
fn eval_bool(node: &Node, env: &Env<'_>, locals: &mut [Value]) -> Outcome<bool> {
    match node {
        Node::ObjectHas(field) => has(env.object.ok_or(Unsupported)?, field),
        Node::Has(operand, field) => has(&*eval(operand, env, locals)?, field),
        Node::And(left, right) => Ok(eval_bool(left, env, locals)? && eval_bool(right, env, locals)?),
        Node::Or(left, right) => Ok(eval_bool(left, env, locals)? || eval_bool(right, env, locals)?),
        Node::Conditional(condition, then, otherwise) => {
            if eval_bool(condition, env, locals)? {
                eval_bool(then, env, locals)
            } else {
                eval_bool(otherwise, env, locals)
            }
        }
        // cel takes anything but `false` (an error, another type) as true
        // here; an error here may be one only native evaluation has.
        Node::NotStrictlyFalse(operand) => Ok(!matches!(eval(operand, env, locals)?.as_ref(), Value::Bool(false))),
        Node::Equals(left, right) => equals(left, right, env, locals),
        Node::NotEquals(left, right) => Ok(!equals(left, right, env, locals)?),
        Node::Compare(left, right, holds) => {
            let left = eval(left, env, locals)?;
            Ok(holds(compare(&left, &*eval(right, env, locals)?)?))
        }
        Node::In(item, container) => match object_string(item, env) {
            Some(key) => contains_str(&*eval(container, env, locals)?, key),
            None => {
                let item = eval(item, env, locals)?;
                contains(&*eval(container, env, locals)?, &item)
            }
        },
        _ => boolean(&*eval(node, env, locals)?),
    }
}

/// The string field of the object that `node` names (`object.name`),
/// borrowed: comparing it need not copy it into a value.
fn object_string<'e>(node: &Node, env: &Env<'e>) -> Option<&'e str> {
    let (Node::ObjectField(name), Some(Value::Entity(object))) = (node, env.object) else {
        return None;
    };
    match &object.entity().field(name)?.value {
        FieldValue::String(text) => Some(text),
        _ => None,
    }
}

/// `left == right`; an object's string field is compared in place. A value
/// of another kind never equals a string.
fn equals(left: &Node, right: &Node, env: &Env<'_>, locals: &mut [Value]) -> Outcome<bool> {
    let is = |text: &str, value: &Value| matches!(value, Value::Str(other) if **other == *text);
    if let Some(text) = object_string(left, env) {
        return Ok(is(text, &*eval(right, env, locals)?));
    }
    let left = eval(left, env, locals)?;
    match object_string(right, env) {
        Some(text) => Ok(is(text, &left)),
        None => equal(&left, &*eval(right, env, locals)?),
    }
}

/// The value at `index`, if it is set (a collection the model has, a
/// variable already evaluated).
fn set_value(values: &[Option<Value>], index: usize) -> Outcome<Cow<'_, Value>> {
    values
        .get(index)
        .and_then(Option::as_ref)
        .map(Cow::Borrowed)
        .ok_or(Unsupported)
}

/// `has(operand.field)`.
fn has(operand: &Value, field: &str) -> Outcome<bool> {
    Ok(match operand {
        Value::Entity(entity) => entity.entity().field(field).is_some(),
        Value::Group(group) => group.group(field).is_some(),
        Value::Map(entries) => entries.iter().any(|(k, _)| k.as_ref() == field),
        _ => return Err(Unsupported),
    })
}

fn boolean(value: &Value) -> Outcome<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        _ => Err(Unsupported),
    }
}

fn text(value: &Value) -> Outcome<&str> {
    match value {
        Value::Str(s) => Ok(s),
        _ => Err(Unsupported),
    }
}

/// A model field as a value. A map field with a repeated key is left to cel.
fn field_value(field: &Field) -> Outcome<Value> {
    Ok(match &field.value {
        FieldValue::String(s) => Value::Str(s.clone()),
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Number(n) => Value::Double(*n),
        FieldValue::List(items) => Value::Items(Arc::new(items.iter().map(field_value).collect::<Outcome<_>>()?)),
        FieldValue::Map(entries) => {
            let mut values = Vec::with_capacity(entries.len());
            for (name, field) in entries {
                if values.iter().any(|(n, _): &(Arc<str>, Value)| n == name) {
                    return Err(Unsupported);
                }
                values.push((name.clone(), field_value(field)?));
            }
            Value::Map(Arc::new(values))
        }
    })
}

/// `operand.name`. The name is borrowed from the compiled expression: the
/// threads evaluating one policy would otherwise all count references on
/// the same string.
fn select(operand: &Value, name: &str) -> Outcome<Value> {
    match operand {
        Value::Entity(entity) => field_value(entity.entity().field(name).ok_or(Unsupported)?),
        Value::Group(group) => Ok(Value::List(group.group(name).ok_or(Unsupported)?.clone())),
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v.clone())
            .ok_or(Unsupported),
        _ => Err(Unsupported),
    }
}

fn index(operand: &Value, index: &Value) -> Outcome<Value> {
    match (operand, index) {
        (_, Value::Str(key)) => index_str(operand, key),
        (Value::List(list), Value::Int(i)) => {
            let at = usize::try_from(*i).map_err(|_| Unsupported)?;
            Ok(Value::Entity(list.items().get(at).ok_or(Unsupported)?.clone()))
        }
        (Value::Items(items), Value::Int(i)) => {
            let at = usize::try_from(*i).map_err(|_| Unsupported)?;
            items.get(at).cloned().ok_or(Unsupported)
        }
        _ => Err(Unsupported),
    }
}

/// `operand[key]` for a string `key`.
fn index_str(operand: &Value, key: &str) -> Outcome<Value> {
    match operand {
        Value::Entity(_) | Value::Group(_) | Value::Map(_) => select(operand, key),
        Value::List(list) => Ok(Value::Entity(list.by_key(key).ok_or(Unsupported)?.clone())),
        _ => Err(Unsupported),
    }
}

/// cel's `==`: values of different kinds are unequal, except numbers, which
/// compare across kinds (left to cel, as are lists and maps).
fn equal(left: &Value, right: &Value) -> Outcome<bool> {
    Ok(match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::UInt(a), Value::UInt(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Entity(a), Value::Entity(b)) => a.same(b),
        (Value::List(a), Value::List(b)) => a.same(b),
        (Value::Group(a), Value::Group(b)) => a.same(b),
        (Value::Int(_) | Value::UInt(_) | Value::Double(_), Value::Int(_) | Value::UInt(_) | Value::Double(_))
        | (Value::Items(_), Value::Items(_))
        | (Value::Map(_), Value::Map(_)) => return Err(Unsupported),
        _ => false,
    })
}

fn compare(left: &Value, right: &Value) -> Outcome<Ordering> {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => Ok(a.cmp(b)),
        (Value::UInt(a), Value::UInt(b)) => Ok(a.cmp(b)),
        (Value::Double(a), Value::Double(b)) => a.partial_cmp(b).ok_or(Unsupported),
        (Value::Str(a), Value::Str(b)) => Ok(a.cmp(b)),
        _ => Err(Unsupported),
    }
}

/// `item in container`, as our values and cel's lists and maps answer it.
fn contains(container: &Value, item: &Value) -> Outcome<bool> {
    if let Value::Str(key) = item {
        return contains_str(container, key);
    }
    Ok(match (container, item) {
        (Value::List(list), Value::Entity(entity)) => list.holds(entity),
        // Our views and entities hold only names and entities.
        (Value::List(_) | Value::Group(_) | Value::Entity(_), _) => false,
        (Value::Items(items), item) => {
            for candidate in items.iter() {
                if equal(candidate, item)? {
                    return Ok(true);
                }
            }
            false
        }
        _ => return Err(Unsupported),
    })
}

/// `key in container` for a string `key`.
fn contains_str(container: &Value, key: &str) -> Outcome<bool> {
    Ok(match container {
        Value::List(list) => list.by_key(key).is_some(),
        Value::Group(group) => group.group(key).is_some(),
        Value::Entity(entity) => entity.entity().field(key).is_some(),
        // A value of another kind never equals a string.
        Value::Items(items) => items.iter().any(|c| matches!(c, Value::Str(s) if **s == *key)),
        Value::Map(entries) => entries.iter().any(|(k, _)| **k == *key),
        _ => return Err(Unsupported),
    })
}

/// A value's size as [`cost::size_of`] counts the same value in cel.
fn size_of(value: &Value) -> u64 {
    match value {
        Value::Str(text) => cost::length(text),
        Value::Items(items) => items.iter().fold(0, |total, item| {
            total.saturating_add(cost::ELEMENT_BYTES).saturating_add(size_of(item))
        }),
        Value::Map(entries) => entries.iter().fold(0, |total, (key, value)| {
            total
                .saturating_add(cost::ELEMENT_BYTES)
                .saturating_add(cost::length(key))
                .saturating_add(size_of(value))
        }),
        Value::Entity(_) | Value::List(_) | Value::Group(_) => cost::ELEMENT_BYTES,
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Double(_) => 0,
    }
}

fn add(left: &Value, right: &Value) -> Outcome<Value> {
    // As cel's: strings and lists are charged, whatever their mix.
    let grows = |value: &Value| matches!(value, Value::Str(_) | Value::Items(_) | Value::List(_));
    if grows(left) && grows(right) && !guard::charge(size_of(left).saturating_add(size_of(right))) {
        // Out of budget, cel evaluates it again and reports it.
        return Err(Unsupported);
    }
    Ok(match (left, right) {
        (Value::Str(a), Value::Str(b)) => Value::Str(Arc::from([a.as_ref(), b.as_ref()].concat())),
        (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(*b).ok_or(Unsupported)?),
        (Value::UInt(a), Value::UInt(b)) => Value::UInt(a.checked_add(*b).ok_or(Unsupported)?),
        (Value::Double(a), Value::Double(b)) => Value::Double(a + b),
        (Value::Items(a), Value::Items(b)) => Value::Items(Arc::new(a.iter().chain(b.iter()).cloned().collect())),
        _ => return Err(Unsupported),
    })
}

fn size(value: &Value) -> Outcome<usize> {
    Ok(match value {
        Value::Str(s) => s.chars().count(),
        Value::List(list) => list.items().len(),
        Value::Group(group) => group.keys().len(),
        Value::Entity(entity) => entity.entity().fields.len(),
        Value::Items(items) => items.len(),
        Value::Map(entries) => entries.len(),
        _ => return Err(Unsupported),
    })
}

/// A function on its (at most two) arguments, a method's target first.
fn call(function: Function, first: Option<&Value>, second: Option<&Value>) -> Outcome<Value> {
    Ok(match (function, first, second) {
        (Function::Size, Some(value), None) => Value::Int(i64::try_from(size(value)?).map_err(|_| Unsupported)?),
        (Function::String, Some(Value::Str(s)), None) => Value::Str(s.clone()),
        (Function::String, Some(Value::Bool(b)), None) => Value::Str(Arc::from(b.to_string())),
        (Function::String, Some(Value::Int(i)), None) => Value::Str(Arc::from(i.to_string())),
        (Function::String, Some(Value::UInt(u)), None) => Value::Str(Arc::from(u.to_string())),
        (Function::String, Some(Value::Double(d)), None) => Value::Str(Arc::from(d.to_string())),
        (Function::StartsWith, Some(this), Some(prefix)) => Value::Bool(text(this)?.starts_with(text(prefix)?)),
        (Function::EndsWith, Some(this), Some(suffix)) => Value::Bool(text(this)?.ends_with(text(suffix)?)),
        (Function::Contains, Some(this), Some(part)) => Value::Bool(text(this)?.contains(text(part)?)),
        (Function::Split, Some(this), Some(separator)) => {
            let parts = cost::split(text(this)?, text(separator)?, -1);
            if !guard::charge(cost::parts_bytes(&parts)) {
                return Err(Unsupported);
            }
            Value::Items(Arc::new(parts.into_iter().map(|p| Value::Str(Arc::from(p))).collect()))
        }
        (Function::Join, Some(Value::Items(items)), separator) => {
            let separator = separator.map_or(Ok(""), text)?;
            let parts = items.iter().map(text).collect::<Outcome<Vec<&str>>>()?;
            if !guard::charge(cost::join_bytes(
                parts.iter().map(|p| cost::length(p)),
                cost::length(separator),
            )) {
                return Err(Unsupported);
            }
            Value::Str(Arc::from(parts.join(separator)))
        }
        (Function::GroupBy, Some(Value::List(list)), Some(field)) => Value::Group(list.group_by(text(field)?)),
        (Function::Having, Some(Value::List(list)), Some(field)) => Value::List(list.having(text(field)?)),
        (Function::Before, Some(Value::List(list)), Some(Value::Entity(entity))) => {
            Value::List(list.before(entity.entity()))
        }
        _ => return Err(Unsupported),
    })
}

/// The element at `at` of what a comprehension iterates: a list's items, a
/// grouping's values, an entity's field names. cel iterates a map in its
/// hash order: that is left to cel.
fn element(range: &Value, at: usize) -> Outcome<Option<Value>> {
    Ok(match range {
        Value::List(list) => list.items().get(at).cloned().map(Value::Entity),
        Value::Items(items) => items.get(at).cloned(),
        Value::Group(group) => group.keys().get(at).cloned().map(Value::Str),
        Value::Entity(entity) => entity
            .entity()
            .fields
            .get(at)
            .map(|(name, _)| Value::Str(Arc::from(*name))),
        _ => return Err(Unsupported),
    })
}

fn comprehend(comprehension: &Comprehension, env: &Env<'_>, locals: &mut [Value]) -> Outcome<Value> {
    // In cel's order: the accumulator's start, then the range.
    let init = eval(&comprehension.init, env, locals)?.into_owned();
    let range = eval(&comprehension.range, env, locals)?;
    element(&range, 0)?;
    let set = |locals: &mut [Value], slot: usize, value: Value| -> Outcome<()> {
        *locals.get_mut(slot).ok_or(Unsupported)? = value;
        Ok(())
    };
    // As cel's budgeted range: a step is taken before each element is
    // fetched, and a spent budget ends the loop (the engine reports it).
    let mut position = 0;
    let mut next = || -> Outcome<Option<Value>> {
        if !guard::step() {
            return Ok(None);
        }
        position += 1;
        element(&range, position - 1)
    };
    match &comprehension.step {
        Step::Append { guard, items } => {
            let mut built = Vec::new();
            while let Some(element) = next()? {
                if !eval_bool(&comprehension.condition, env, locals)? {
                    break;
                }
                set(locals, comprehension.item, element)?;
                if let Some(guard) = guard
                    && !eval_bool(guard, env, locals)?
                {
                    continue;
                }
                for item in items {
                    built.push(eval(item, env, locals)?.into_owned());
                }
            }
            Ok(Value::Items(Arc::new(built)))
        }
        Step::Fold(step) => {
            set(locals, comprehension.accumulator, init)?;
            while let Some(element) = next()? {
                if !eval_bool(&comprehension.condition, env, locals)? {
                    break;
                }
                set(locals, comprehension.item, element)?;
                let accumulated = eval(step, env, locals)?.into_owned();
                set(locals, comprehension.accumulator, accumulated)?;
            }
            eval(&comprehension.result, env, locals).map(Cow::into_owned)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::guard::{Limits, check_and_instrument};

    fn compiled(text: &str, variables: &[Arc<str>]) -> (Node, usize, usize) {
        let program = cel::Env::stdlib().compile(text).expect("compiles");
        let mut ast = program.expression().clone();
        check_and_instrument(&mut ast, &Limits::default(), &["model", "object", "variables"]).expect("within limits");
        let mut compiler = Compiler::new(variables, true);
        let node = compiler.compile(&ast);
        (node, compiler.locals, compiler.constants)
    }

    #[test]
    fn names_become_slots_and_model_only_parts_are_cached() {
        let (node, locals, constants) = compiled(
            "object.units.filter(u, u in model.placements.groupBy('account')) == variables.x",
            &[Arc::from("x")],
        );
        assert_eq!((locals, constants), (2, 1));
        let text = format!("{node:?}");
        assert!(text.contains("Variable(0)"), "{text}");
        assert!(text.contains("Constant(0, Call(GroupBy, [Collection(8)"), "{text}");
        assert!(text.contains("Append"), "{text}");
    }

    #[test]
    fn object_fields_and_literal_keys_take_one_node() {
        let (node, _, _) = compiled(
            "has(object.pool) && object.pool in model.pools && variables.x['a'] == object['b']",
            &[Arc::from("x")],
        );
        let text = format!("{node:?}");
        for part in [
            "ObjectHas(\"pool\")",
            "In(ObjectField(\"pool\"), Collection(9))",
            "Key(Variable(0), Str(\"a\"))",
            "ObjectField(\"b\")",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert!(!text.contains("Object,") && !text.contains("Literal"), "{text}");
    }

    #[test]
    fn unknown_names_and_functions_are_left_to_cel() {
        for text in [
            "objekt.name",
            "variables.y",
            "object.name.matches(object.pool)",
            "object.name.matches('(')",
            "b'x'",
            "{'a': 1}",
        ] {
            let (node, _, _) = compiled(text, &[Arc::from("x")]);
            assert!(format!("{node:?}").contains("Unsupported"), "{text}: {node:?}");
        }
    }
}
