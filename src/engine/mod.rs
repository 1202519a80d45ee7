//! Evaluate: policies are compiled once (with static guards), then evaluated
//! per entity of their collection, or once per model, under a step budget
//! and a deadline: natively (`native`), or by cel's interpreter where native
//! evaluation cannot. Findings and policy errors come out as diagnostics.
//! Imports `source`, `diagnostic`, `model` and `policy`.

mod cost;
mod guard;
mod native;
mod value;

pub use guard::{ENGINE_STACK_BYTES, Limits};

use crate::diagnostic::{Diagnostic, Location, POLICY_ERROR, Related, Severity};
use crate::model::{Collection, Entity, Model};
use crate::parallel;
use crate::policy::{self, Expression, Policy};
use crate::source::{SourceMap, Span};
use cel::common::types::{CelBool, CelString};
use cel::common::value::{CowVal, Val};
use cel::{Context, Env, ExecutionError, FunctionContext, IdedExpr};
use std::sync::Arc;
use value::{EntityVal, KeyedList, ModelVal, VariablesVal};

/// Entities evaluated as one unit of work, by every policy over their
/// collection: large enough to amortize a task, small enough to balance the
/// threads.
const CHUNK: usize = 512;

/// The variables every policy sees.
const MODEL: &str = "model";
const OBJECT: &str = "object";
const VARIABLES: &str = "variables";

/// A compiled expression, for cel and natively, and the policy text it came
/// from.
struct Program {
    ast: IdedExpr,
    native: native::Node,
    source: Expression,
}

struct CompiledValidation {
    expression: Program,
    message: Option<String>,
    message_expression: Option<Program>,
    field: Option<String>,
    related: Option<Program>,
    related_field: Option<String>,
    severity: Option<Severity>,
}

struct CompiledPolicy {
    policy: Policy,
    conditions: Vec<Program>,
    variable_names: Arc<[Arc<str>]>,
    variables: Vec<Program>,
    validations: Vec<CompiledValidation>,
    /// Slots its native form needs: comprehension variables, cached parts.
    locals: usize,
    constants: usize,
}

/// How policies are evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Evaluator {
    /// Natively where it can, else by cel's interpreter (same results).
    #[default]
    Native,
    /// By cel's interpreter only: to compare with, or to rule the native
    /// evaluator out when a result looks wrong.
    Interpreter,
}

/// What one evaluating thread keeps.
struct Worker {
    root: Context<'static, 'static>,
    native: native::Thread,
    counts: Counts,
}

/// Evaluations of a policy on an entity (or on a model), and how many of
/// them cel's interpreter did because native evaluation could not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub evaluations: usize,
    pub interpreted: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.evaluations += other.evaluations;
        self.interpreted += other.interpreted;
    }
}

/// What evaluating the policies on a model gave.
pub struct Evaluation {
    /// Findings and policy errors, in no set order.
    pub diagnostics: Vec<Diagnostic>,
    pub counts: Counts,
}

/// The compiled policies of a run.
pub struct Engine {
    env: Arc<Env>,
    policies: Vec<CompiledPolicy>,
    /// Policies not compiled because no model can use them.
    idle: Vec<Policy>,
    limits: Limits,
}

/// The CEL environment: the standard library and the strings extension.
fn environment() -> Env {
    let mut env = Env::stdlib();
    // The extension only adds functions that do not exist yet, so this cannot fail.
    let _ = env.add_extension(cel::extensions::strings);
    env
}

impl Engine {
    /// Compiles every policy. A policy with an expression that does not
    /// compile, or that breaks a static limit, is left out and reported (the
    /// second value): those are load failures.
    ///
    /// A policy for which `needed` is false (a built-in one whose collection
    /// no model has) is kept for listing but not compiled: a run pays only
    /// for the policies it can use. `needed` is asked about each policy in
    /// turn, just before it would be compiled.
    pub fn compile(
        policies: Vec<Policy>,
        sources: &SourceMap,
        limits: Limits,
        needed: impl Fn(&Policy) -> bool,
    ) -> (Engine, Vec<Diagnostic>) {
        let env = environment();
        let mut diagnostics = Vec::new();
        let mut compiled = Vec::new();
        let mut idle = Vec::new();
        // One thread: compiling on two took as long (the CEL parser's DFA
        // caches are shared behind locks).
        for policy in policies {
            if !needed(&policy) {
                idle.push(policy);
                continue;
            }
            match compile_policy(&env, &policy, sources, &limits) {
                Ok(policy) => compiled.push(policy),
                Err(mut problems) => diagnostics.append(&mut problems),
            }
        }
        (
            Engine {
                env: Arc::new(env),
                policies: compiled,
                idle,
                limits,
            },
            diagnostics,
        )
    }

    /// Every policy that loaded, compiled or not, sorted by id.
    pub fn policies(&self) -> Vec<&Policy> {
        let mut all: Vec<&Policy> = self.policies.iter().map(|p| &p.policy).chain(&self.idle).collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Evaluates every policy on one model, on the threads of `pool`. The work
    /// is cut into chunks that do not depend on the thread count, and the
    /// results are put back in chunk order, so the output is the same
    /// whatever the thread count. Also returns how many evaluations there
    /// were, and how many of them cel's interpreter did.
    pub fn evaluate(&self, model: &Model, pool: &parallel::Pool, evaluator: Evaluator) -> Evaluation {
        let name = model.name.as_deref().unwrap_or("the files without a DataPlane");
        let working_on = format!("the policies on the model of {name}");
        let model_val = ModelVal::new(model);
        // The policies of a collection run one after the other on each of
        // its entities, while the entity is at hand (in cache), in engine
        // order; the policies over the model run once each.
        let mut by_collection: Vec<(Collection, Vec<Task>)> = Vec::new();
        let mut tasks: Vec<(Vec<Task>, Option<&[EntityVal]>)> = Vec::new();
        for (index, compiled) in self.policies.iter().enumerate() {
            let task = Task {
                index,
                compiled,
                evaluator,
            };
            match &compiled.policy.for_each {
                Some(collection) => match by_collection.iter_mut().find(|(c, _)| c == collection) {
                    Some((_, policies)) => policies.push(task),
                    None => by_collection.push((*collection, vec![task])),
                },
                None => tasks.push((vec![task], None)),
            }
        }
        for (collection, policies) in &by_collection {
            tasks.extend(
                model_val
                    .collection(*collection)
                    .chunks(CHUNK)
                    .map(|chunk| (policies.clone(), Some(chunk))),
            );
        }
        // The pool's threads have the stack the AST limits are sized for.
        let results = parallel::map(
            &tasks,
            pool,
            || {
                parallel::working_on(&working_on);
                Worker {
                    root: self.root_context(&model_val),
                    native: native::Thread::new(&model_val, self.policies.iter().map(|p| p.constants)),
                    counts: Counts::default(),
                }
            },
            |worker, _, (policies, chunk)| {
                let mut out = Vec::new();
                worker.counts = Counts::default();
                match chunk {
                    Some(entities) => self.evaluate_chunk(policies, worker, entities, model, &mut out),
                    None => {
                        for task in policies {
                            self.evaluate_one(task, worker, None, model, &mut out);
                        }
                    }
                }
                (out, worker.counts)
            },
        );
        let mut counts = Counts::default();
        let mut diagnostics = Vec::new();
        for (mut out, task_counts) in results.into_iter().flatten() {
            diagnostics.append(&mut out);
            counts += task_counts;
        }
        Evaluation { diagnostics, counts }
    }

    /// A root context for one thread: the model, and our functions.
    fn root_context(&self, model: &ModelVal) -> Context<'static, 'static> {
        let mut root = Context::with_env(self.env.clone());
        root.add_variable_as_val(MODEL, Box::new(model.clone()));
        // The names are ours and are not overloads of the environment.
        let _ = root.add_function(guard::BUDGET_FUNCTION, as_function(guard::budget_function));
        let _ = root.add_function(cost::ADD, as_function(cost::add));
        let _ = root.add_function(cost::MATCHES, as_function(cost::matches));
        let _ = root.add_function(cost::JOIN, as_function(cost::join));
        let _ = root.add_function(cost::REPLACE, as_function(cost::replace));
        let _ = root.add_function(cost::SPLIT, as_function(cost::split_function));
        let _ = root.add_function(cost::CHARGE_VALUE, as_function(cost::charge_value));
        let _ = root.add_function(cost::CHARGE_QUOTE, as_function(cost::charge_quote));
        let _ = root.add_function("groupBy", as_function(group_by));
        let _ = root.add_function("before", as_function(before));
        let _ = root.add_function("having", as_function(having));
        root
    }

    /// Evaluates the policies of a collection on a chunk of its entities,
    /// each entity by every policy in turn. A policy that ran out of budget
    /// once is not run again on the chunk: each entity left gets a policy
    /// error (fail closed) at no cost, so a hostile policy costs one deadline
    /// per chunk, not one per entity.
    fn evaluate_chunk(
        &self,
        policies: &[Task],
        worker: &mut Worker,
        entities: &[EntityVal],
        model: &Model,
        out: &mut Vec<Diagnostic>,
    ) {
        let mut stopped_on: Vec<Option<String>> = vec![None; policies.len()];
        for entity in entities {
            for (task, stopped_on) in policies.iter().zip(&mut stopped_on) {
                match stopped_on {
                    Some(first) => out.push(policy_error(
                        task.compiled,
                        entity.entity(),
                        format!("not evaluated: the policy was stopped on {first} after exceeding its budget"),
                    )),
                    None => {
                        if self.evaluate_one(task, worker, Some(entity), model, out) {
                            *stopped_on = Some(entity.entity().model_path());
                        }
                    }
                }
            }
        }
    }

    /// Evaluates one policy on one entity (or on the model); `true` when the
    /// evaluation ran out of budget.
    fn evaluate_one(
        &self,
        task: &Task,
        worker: &mut Worker,
        object: Option<&EntityVal>,
        model: &Model,
        out: &mut Vec<Diagnostic>,
    ) -> bool {
        let Some(anchor) = object.map(EntityVal::entity).or_else(|| first_entity(model)) else {
            return false;
        };
        let compiled = task.compiled;
        worker.counts.evaluations += 1;
        guard::start(&self.limits);
        let mark = out.len();
        let native = match task.evaluator {
            Evaluator::Native => self.run_native(task, &mut worker.native, object, anchor, out),
            Evaluator::Interpreter => Err(native::Unsupported),
        };
        // Whatever native evaluation does not do, cel does from the start.
        let result = native.or_else(|native::Unsupported| {
            worker.counts.interpreted += 1;
            out.truncate(mark);
            guard::start(&self.limits);
            self.run(compiled, &worker.root, object, anchor, out)
        });
        let exhausted = guard::exhausted();
        let failure = match (exhausted, result) {
            (Some(guard::Exhausted::Steps), _) => Some(format!(
                "evaluation exceeded its budget of {} steps",
                self.limits.max_steps
            )),
            (Some(guard::Exhausted::Bytes), _) => Some(format!(
                "evaluation exceeded its budget of {} bytes built",
                self.limits.max_built_bytes
            )),
            (Some(guard::Exhausted::Deadline), _) => Some(format!(
                "evaluation exceeded its deadline of {} ms",
                self.limits.deadline.as_millis()
            )),
            (None, Err(error)) => Some(error),
            (None, Ok(())) => None,
        };
        if let Some(reason) = failure {
            // A budget spent mid-way ends comprehensions early, so what the
            // evaluation found may be wrong: only the error stands.
            if exhausted.is_some() {
                out.truncate(mark);
            }
            let what = if object.is_some() {
                anchor.model_path()
            } else {
                "the model".to_string()
            };
            out.push(policy_error(
                compiled,
                anchor,
                format!("could not be evaluated on {what}: {reason}"),
            ));
        }
        exhausted.is_some()
    }

    /// Runs one policy on one entity natively. `Unsupported` when it cannot,
    /// at any point: the caller drops what it found and asks cel.
    fn run_native(
        &self,
        task: &Task,
        thread: &mut native::Thread,
        object: Option<&EntityVal>,
        anchor: &Arc<Entity>,
        out: &mut Vec<Diagnostic>,
    ) -> Result<(), native::Unsupported> {
        use native::{Unsupported, Value};
        let compiled = task.compiled;
        let mut scope = thread.scope(task.index, compiled.locals, object, compiled.variables.len());
        let holds = |program: &Program, scope: &mut native::Scope| scope.holds(&program.native);
        for condition in &compiled.conditions {
            if !holds(condition, &mut scope)? {
                return Ok(());
            }
        }
        for (index, program) in compiled.variables.iter().enumerate() {
            let value = scope.evaluate(&program.native)?;
            scope.set_variable(index, value);
        }
        for validation in &compiled.validations {
            if holds(&validation.expression, &mut scope)? {
                continue;
            }
            let message = match &validation.message_expression {
                Some(program) => match scope.evaluate(&program.native)? {
                    Value::Str(text) => Some(text.to_string()),
                    _ => return Err(Unsupported),
                },
                None => None,
            };
            let related = match &validation.related {
                Some(program) => native_entities(scope.evaluate(&program.native)?)?,
                None => Vec::new(),
            };
            out.push(finding(compiled, validation, anchor, message, related));
        }
        Ok(())
    }

    /// Runs one policy on one entity; a runtime error is returned as text.
    fn run(
        &self,
        compiled: &CompiledPolicy,
        root: &Context<'_, 'static>,
        object: Option<&EntityVal>,
        anchor: &Arc<Entity>,
        out: &mut Vec<Diagnostic>,
    ) -> Result<(), String> {
        let mut scope = root.new_inner_scope();
        if let Some(object) = object {
            scope.add_variable_as_val(OBJECT, Box::new(object.clone()));
        }
        for condition in &compiled.conditions {
            if !evaluate_bool(condition, &scope)? {
                return Ok(());
            }
        }
        // Bound only for the policies that have variables, once their
        // conditions hold: a binding costs allocations, per entity.
        if !compiled.variables.is_empty() {
            let variables = VariablesVal::new(compiled.variable_names.clone());
            scope.add_variable_as_val(VARIABLES, Box::new(variables.clone()));
            for (index, program) in compiled.variables.iter().enumerate() {
                variables.set(index, evaluate(program, &scope)?);
            }
        }
        for validation in &compiled.validations {
            if evaluate_bool(&validation.expression, &scope)? {
                continue;
            }
            let message = match &validation.message_expression {
                Some(program) => {
                    let value = evaluate(program, &scope)?;
                    match value.downcast_ref::<CelString>() {
                        Some(text) => Some(text.inner().to_string()),
                        None => return Err(located(program, "`messageExpression` must give a string")),
                    }
                }
                None => None,
            };
            let related = match &validation.related {
                Some(program) => {
                    let value = evaluate(program, &scope)?;
                    related_entities(value.as_ref()).map_err(|e| located(program, e))?
                }
                None => Vec::new(),
            };
            out.push(finding(compiled, validation, anchor, message, related));
        }
        Ok(())
    }
}

/// One policy of a run of `evaluate`, by its index in the engine.
#[derive(Clone, Copy)]
struct Task<'e> {
    index: usize,
    compiled: &'e CompiledPolicy,
    evaluator: Evaluator,
}

/// The finding of a validation that does not hold on `anchor`; `message`
/// is the one its expression gave.
fn finding(
    compiled: &CompiledPolicy,
    validation: &CompiledValidation,
    anchor: &Entity,
    message: Option<String>,
    related: Vec<Arc<Entity>>,
) -> Diagnostic {
    let message = message.or_else(|| validation.message.clone()).unwrap_or_else(|| {
        format!(
            "`{}` does not hold for {}",
            validation.expression.source.text,
            anchor.model_path()
        )
    });
    let field = validation.field.as_deref();
    let (location, model_path) = field_location(anchor, field);
    let severity = validation.severity.unwrap_or(compiled.policy.severity);
    let mut diagnostic = Diagnostic::new(compiled.policy.id.as_str(), severity, message, location);
    diagnostic.model_path = Some(model_path);
    if !compiled.policy.summary.is_empty() {
        diagnostic.help = Some(compiled.policy.summary.clone());
    }
    let related_field = validation.related_field.as_deref().or(field);
    // A finding related to every cluster of a 50,000-cluster pool says so
    // in a line, instead of listing them all in every output.
    if related.len() > MAX_RELATED {
        let more = related.len() - MAX_RELATED;
        diagnostic.message.push_str(&format!(
            " ({more} more related location{} not listed)",
            if more == 1 { "" } else { "s" }
        ));
    }
    for entity in related.into_iter().take(MAX_RELATED) {
        let (location, path) = field_location(&entity, related_field);
        diagnostic.related.push(Related {
            location,
            message: path,
        });
    }
    diagnostic
}

/// How many related locations a finding lists.
const MAX_RELATED: usize = 10;

/// The entities of a native `related` value, as [`related_entities`].
fn native_entities(value: native::Value) -> Result<Vec<Arc<Entity>>, native::Unsupported> {
    use native::Value;
    match value {
        Value::Entity(entity) => Ok(vec![entity.entity().clone()]),
        Value::List(list) => Ok(list.items().iter().map(|e| e.entity().clone()).collect()),
        Value::Items(items) => items
            .iter()
            .map(|item| match item {
                Value::Entity(entity) => Ok(entity.entity().clone()),
                _ => Err(native::Unsupported),
            })
            .collect(),
        _ => Err(native::Unsupported),
    }
}

/// A `policy-error` on an entity, related to the policy's name.
fn policy_error(compiled: &CompiledPolicy, entity: &Entity, what: String) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(
        POLICY_ERROR,
        format!("policy `{}` {what}", compiled.policy.id),
        entity.location,
    );
    diagnostic.model_path = Some(entity.model_path());
    diagnostic.related.push(Related {
        location: compiled.policy.location,
        message: format!("policy `{}`", compiled.policy.id),
    });
    diagnostic
}

/// The location and model path of `field` on an entity, or of the entity
/// itself when it has no such field.
fn field_location(entity: &Entity, field: Option<&str>) -> (Location, String) {
    match field.and_then(|f| entity.field_at(f).map(|value| (f, value))) {
        Some((name, value)) => (value.location, format!("{}.{name}", entity.model_path())),
        None => (entity.location, entity.model_path()),
    }
}

/// Where a policy without `forEach` reports: the model's DataPlane, else its
/// earliest entity.
fn first_entity(model: &Model) -> Option<&Arc<Entity>> {
    model.collection(Collection::DataPlanes).first().or_else(|| {
        Collection::ALL
            .into_iter()
            .filter_map(|c| model.collection(c).first())
            .min_by_key(|e| e.order)
    })
}

fn related_entities(value: &dyn Val) -> Result<Vec<Arc<Entity>>, String> {
    if let Some(entity) = value.downcast_ref::<EntityVal>() {
        return Ok(vec![entity.entity().clone()]);
    }
    let Some(iterable) = value.as_iterable() else {
        return Err("`related` must give an entity or a list of entities".into());
    };
    let mut entities = Vec::new();
    let mut items = iterable.iter();
    while let Some(item) = items.next() {
        match item.downcast_ref::<EntityVal>() {
            Some(entity) => entities.push(entity.entity().clone()),
            None => return Err("`related` must give an entity or a list of entities".into()),
        }
    }
    Ok(entities)
}

fn located(program: &Program, message: impl std::fmt::Display) -> String {
    format!("{message} (in `{}`)", program.source.text)
}

fn evaluate(program: &Program, scope: &Context<'_, 'static>) -> Result<Box<dyn Val>, String> {
    cel::Value::resolve_val(&program.ast, scope)
        .map(CowVal::into_owned)
        .map_err(|error| located(program, describe(&error)))
}

fn evaluate_bool(program: &Program, scope: &Context<'_, 'static>) -> Result<bool, String> {
    let value = evaluate(program, scope)?;
    value
        .downcast_ref::<CelBool>()
        .map(|b| bool::from(*b))
        .ok_or_else(|| located(program, format!("expected a boolean, got {}", value.get_type().name())))
}

/// cel's message for an error, except that the values in it are shown by
/// [`shown`]: cel prints a map in its hash order, which changes from run to
/// run, and the same input must give the same bytes.
fn describe(error: &ExecutionError) -> String {
    use ExecutionError as E;
    match error {
        E::NoSuchKey(key) => format!("no such key: {key}"),
        E::UnsupportedTargetType { target } => format!("Invalid argument type: {}", shown(target)),
        E::NotSupportedAsMethod { method, target } => {
            format!("Method '{method}' not supported on type '{}'", shown(target))
        }
        E::UnsupportedKeyType(value) => format!("Unable to use value '{}' as a key", shown(value)),
        E::ValuesNotComparable(a, b) => format!("{} can not be compared to {}", shown(a), shown(b)),
        E::UnsupportedBinaryOperator(operator, a, b) => {
            format!("Unsupported binary operator '{operator}': {}, {}", shown(a), shown(b))
        }
        E::UnsupportedIndex(a, b) => format!("Cannot use value {} to index {}", shown(a), shown(b)),
        E::DivisionByZero(value) => format!("Division by zero of {}", shown(value)),
        E::RemainderByZero(value) => format!("Remainder by zero of {}", shown(value)),
        E::Overflow(operator, a, b) => {
            format!("Overflow from binary operator '{operator}': {}, {}", shown(a), shown(b))
        }
        E::IndexOutOfBounds(value) => format!("Index out of bounds: {}", shown(value)),
        E::DuplicateKey(value) => format!("Failed with repeated key: {}", shown(value)),
        other => other.to_string(),
    }
}

/// A value as cel's `Debug` prints it, with map entries in key order.
fn shown(value: &cel::Value) -> String {
    match value {
        cel::Value::Map(map) => {
            let mut entries: Vec<_> = map.map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k:?}: {}", shown(v))).collect();
            format!("Map(Map {{ map: {{{}}} }})", entries.join(", "))
        }
        cel::Value::List(items) => {
            let items: Vec<String> = items.iter().map(shown).collect();
            format!("List([{}])", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

type Function = Box<
    dyn for<'c, 'call> Fn(&mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> + Send + Sync,
>;

fn as_function(
    f: for<'c, 'call> fn(&mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError>,
) -> Function {
    Box::new(f)
}

/// The list a view function is called on.
fn target_list<'a>(ftx: &'a FunctionContext<'_, '_>, usage: &str) -> Result<&'a KeyedList, ExecutionError> {
    ftx.this
        .as_ref()
        .and_then(|this| this.downcast_ref::<KeyedList>())
        .ok_or_else(|| ftx.error(format!("works on model collections and groups: {usage}")))
}

/// The list a view function is called on, and the field name it is given.
fn list_and_field<'a>(
    ftx: &'a FunctionContext<'_, '_>,
    usage: &str,
) -> Result<(&'a KeyedList, &'a str), ExecutionError> {
    let field = ftx
        .args
        .first()
        .and_then(|a| a.downcast_ref::<CelString>())
        .ok_or_else(|| ftx.error(format!("takes a field name: {usage}")))?;
    Ok((target_list(ftx, usage)?, field.inner()))
}

/// `list.groupBy('field')`: a map from each value of `field` to the entities
/// that have it, in model order.
fn group_by<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let (list, field) = list_and_field(ftx, "model.clusters.groupBy('pool')")?;
    Ok(CowVal::owned(list.group_by(field)))
}

/// `list.having('field')`: the entities of the list that have `field`.
fn having<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let (list, field) = list_and_field(ftx, "model.clusters.having('organization')")?;
    Ok(CowVal::owned(list.having(field)))
}

/// `list.before(entity)`: the entities of the list that come before `entity`.
fn before<'c, 'call>(ftx: &mut FunctionContext<'c, 'call>) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let list = target_list(ftx, "list.before(object)")?;
    let entity = ftx
        .args
        .first()
        .and_then(|a| a.downcast_ref::<EntityVal>())
        .ok_or_else(|| ftx.error("takes an entity: list.before(object)"))?;
    Ok(CowVal::owned(list.before(entity.entity())))
}

/// One policy compiled, or the diagnostics of the expressions that did not
/// compile.
fn compile_policy(
    env: &Env,
    policy: &Policy,
    sources: &SourceMap,
    limits: &Limits,
) -> Result<CompiledPolicy, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let variable_names: Arc<[Arc<str>]> = policy
        .variables
        .iter()
        .map(|(name, _)| Arc::from(name.as_str()))
        .collect();
    let mut compiler = native::Compiler::new(&variable_names, policy.for_each.is_some());
    let builtin = policy.origin == policy::Origin::BuiltIn;
    let mut program = |expression: &Expression| -> Option<Program> {
        match compile_expression(env, expression, builtin, sources, limits, &mut compiler) {
            Ok(program) => Some(program),
            Err(mut diagnostic) => {
                // Named in the message, which every format shows.
                diagnostic.message = format!("policy `{}` does not compile: {}", policy.id, diagnostic.message);
                problems.push(*diagnostic);
                None
            }
        }
    };
    let conditions: Vec<Program> = policy.match_conditions.iter().filter_map(&mut program).collect();
    let variables: Vec<Program> = policy.variables.iter().filter_map(|(_, e)| program(e)).collect();
    let validations: Vec<CompiledValidation> = policy
        .validations
        .iter()
        .filter_map(|v| {
            let expression = program(&v.expression);
            let message_expression = v.message_expression.as_ref().map(&mut program);
            let related = v.related.as_ref().map(&mut program);
            Some(CompiledValidation {
                expression: expression?,
                message: v.message.clone(),
                message_expression: message_expression.unwrap_or(None),
                field: v.field.clone(),
                related_field: v.related_field.clone(),
                severity: v.severity,
                related: related.unwrap_or(None),
            })
        })
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let (locals, constants) = (compiler.locals, compiler.constants);
    Ok(CompiledPolicy {
        policy: policy.clone(),
        conditions,
        variable_names,
        variables,
        validations,
        locals,
        constants,
    })
}

fn compile_expression(
    env: &Env,
    expression: &Expression,
    builtin: bool,
    sources: &SourceMap,
    limits: &Limits,
    compiler: &mut native::Compiler,
) -> Result<Program, Box<Diagnostic>> {
    let at_start = || Location {
        source: expression.location.source,
        span: Span::new(expression.location.span.start, expression.location.span.start),
    };
    if expression.text.len() > limits.max_expression_bytes {
        return Err(Box::new(Diagnostic::error(
            POLICY_ERROR,
            format!("the expression is longer than {} bytes", limits.max_expression_bytes),
            at_start(),
        )));
    }
    let parsed = if builtin { parse_builtin(&expression.text) } else { None };
    let parsed = parsed.map_or_else(|| parse(env, &expression.text), Ok);
    let mut ast = parsed.map_err(|errors| {
        let file_text = sources.get(expression.location.source).map_or("", |f| f.text.as_ref());
        let first = errors.errors.first();
        let (line, column) = first.map_or((1, 1), |e| {
            (
                usize::try_from(e.pos.0).unwrap_or(1).max(1),
                usize::try_from(e.pos.1).unwrap_or(1).max(1),
            )
        });
        let offset = policy::expression_offset(file_text, expression, line, column);
        let message = first.map_or_else(|| "invalid expression".to_string(), |e| clean_parse_message(&e.msg));
        Diagnostic::error(
            POLICY_ERROR,
            format!("invalid CEL: {message}"),
            Location {
                source: expression.location.source,
                span: Span::new(offset, offset),
            },
        )
    })?;
    guard::check_and_instrument(&mut ast, limits, &[MODEL, OBJECT, VARIABLES]).map_err(|reason| {
        Box::new(Diagnostic::error(
            POLICY_ERROR,
            format!("expression rejected: {reason}"),
            at_start(),
        ))
    })?;
    Ok(Program {
        native: compiler.compile(&ast),
        ast,
        source: expression.clone(),
    })
}

/// An expression parsed by cel's parser, with the environment's macros.
fn parse(env: &Env, text: &str) -> Result<IdedExpr, cel::ParseErrors> {
    env.compile(text).map(|program| program.expression().clone())
}

/// A built-in expression parsed by cel's hand-written (Pratt) parser: on
/// the built-in pack it makes the same trees as the ANTLR parser (a test
/// checks every expression) at a fifteenth of the cost, and the pack was
/// most of the run on a small repo (27 M of 38 M instructions). Policies
/// from files keep the ANTLR parser, its limits and its error messages.
/// `None` sends the expression to the ANTLR parser.
fn parse_builtin(text: &str) -> Option<IdedExpr> {
    cel::parser::PrattParser::new().parse(text).ok()
}

/// The CEL parser wraps some messages in debug formatting; keep the text.
fn clean_parse_message(message: &str) -> String {
    match message.split_once("msg: \"") {
        Some((_, rest)) => rest.split('"').next().unwrap_or(rest).to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use std::path::PathBuf;

    #[test]
    fn the_builtin_parser_makes_the_trees_of_the_antlr_parser_on_every_builtin_expression() {
        let env = environment();
        let mut sources = SourceMap::default();
        for (name, text) in policy::BUILTIN {
            let file = SourceFile::new(name.to_string(), PathBuf::from(name), Arc::from(*text));
            let source = sources.add(file);
            let (policies, problems) = policy::read(&sources, source, policy::Origin::BuiltIn);
            assert!(problems.is_empty(), "{name}: {problems:?}");
            // Every file of the pack holds a policy: none was left out.
            assert!(!policies.is_empty(), "{name}: no policy read");
            for policy in policies {
                let validations = policy.validations.iter().flat_map(|v| {
                    [Some(&v.expression), v.message_expression.as_ref(), v.related.as_ref()]
                        .into_iter()
                        .flatten()
                });
                let all = policy
                    .match_conditions
                    .iter()
                    .chain(policy.variables.iter().map(|(_, e)| e))
                    .chain(validations);
                for expression in all {
                    let antlr = parse(&env, &expression.text).ok();
                    assert!(antlr.is_some(), "{name}: `{}` does not parse", expression.text);
                    assert_eq!(parse_builtin(&expression.text), antlr, "{name}: `{}`", expression.text);
                }
            }
        }
    }
}
