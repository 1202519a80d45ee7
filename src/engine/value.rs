//! The model as CEL sees it. Entities, collections and groupings are our own
//! `Val` types backed by `Arc`s: a comprehension over a collection lends its
//! elements out and cloning one is a reference-count increment, never a deep
//! copy. Groupings are computed on first use and cached.

use crate::model::{Collection, Entity, Field, Model, Value};
use cel::ExecutionError;
use cel::common::traits::{Container, Indexer, Iterable, Iterator as CelIterator, Sizer};
use cel::common::types::{self, CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelString, Type};
use cel::common::value::{CowVal, StaticVal, Val};
use rustc_hash::FxHashMap;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn field_to_val(field: &Field) -> Box<dyn Val> {
    match &field.value {
        Value::String(s) => Box::new(CelString::from(s.to_string())),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => Box::new(CelDouble::from(*n)),
        Value::List(items) => Box::new(CelList::from(items.iter().map(field_to_val).collect::<Vec<_>>())),
        Value::Map(entries) => {
            let map: HashMap<CelMapKey<'static>, Box<dyn Val>> = entries
                .iter()
                .map(|(name, field)| (CelMapKey::from(name.to_string()), field_to_val(field)))
                .collect();
            Box::new(CelMap::from(map))
        }
    }
}

fn key_of(idx: &dyn Val) -> Result<&str, ExecutionError> {
    idx.downcast_ref::<CelString>()
        .map(CelString::inner)
        .ok_or_else(|| ExecutionError::UnsupportedKeyType(cel::Value::Null))
}

fn size_of(len: usize) -> CelInt {
    CelInt::from(i64::try_from(len).unwrap_or(i64::MAX))
}

/// A lookup in one of our values: the element lives as long as the value.
trait Lookup {
    fn lookup(&self, idx: &dyn Val) -> Result<&(dyn Val + 'static), ExecutionError>;
}

/// The `Val` plumbing our values share: their CEL type, the traits each one
/// implements (answered with `self`), cloning, downcasting, and indexing by
/// [`Lookup`]. Equality is the type's own `same`.
macro_rules! model_val {
    ($ty:ty, $cel_type:expr $(, $capability:ident)*) => {
        impl Val for $ty {
            fn get_type(&self) -> &Type {
                &$cel_type
            }
            fn cel_type() -> &'static Type {
                &$cel_type
            }
            fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
            where
                Self: 'w,
            {
                Some(self)
            }
            $(model_val!(@$capability);)*
            fn equals(&self, other: &dyn Val) -> bool {
                other.downcast_ref::<$ty>().is_some_and(|other| self.same(other))
            }
            fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
            where
                Self: 'w,
            {
                Box::new(self.clone())
            }
            fn as_any(&self) -> Option<&dyn Any> {
                Some(self)
            }
        }

        impl StaticVal for $ty {}

        impl Indexer for $ty {
            fn get<'b, 'w>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.lookup(idx).map(CowVal::Borrowed)
            }
            fn steal<'w>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.lookup(idx).map(|v| v.clone_as_boxed())
            }
        }
    };
    (@container) => {
        fn as_container(&self) -> Option<&dyn Container> {
            Some(self)
        }
    };
    (@iterable) => {
        fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
        where
            Self: 'w,
        {
            Some(self)
        }
    };
    (@sizer) => {
        fn as_sizer(&self) -> Option<&dyn Sizer> {
            Some(self)
        }
    };
}

/// A map keyed by names (an entity's fields, a grouping's values): `in`
/// tests a name, `size()` counts them, a comprehension iterates them. The
/// type provides `names()` and `find(name)`.
macro_rules! keyed_by_names {
    ($ty:ty) => {
        impl Container for $ty {
            fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
                Ok(key_of(value).ok().and_then(|k| self.find(k)).is_some())
            }
        }

        impl Sizer for $ty {
            fn size(&self) -> CelInt {
                size_of(self.names().len())
            }
        }

        impl Iterable for $ty {
            fn iter<'b, 'w>(&'b self) -> Box<dyn CelIterator<'b, 'w> + 'b>
            where
                Self: 'w,
            {
                Box::new(Lend {
                    items: self.names(),
                    position: 0,
                })
            }
        }
    };
}

/// Lends the elements of a slice of values, in order.
struct Lend<'b, T> {
    items: &'b [T],
    position: usize,
}

impl<'b, 'w, T: Val + 'w> CelIterator<'b, 'w> for Lend<'b, T> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        let item = self.items.get(self.position)?;
        self.position += 1;
        Some(item)
    }
}

/// One entity: a map from field names to values. The values are made on
/// first use, by the thread that evaluates the entity.
#[derive(Debug, Clone)]
pub struct EntityVal(Arc<EntityData>);

#[derive(Debug)]
struct EntityData {
    entity: Arc<Entity>,
    names: OnceLock<Vec<CelString<'static>>>,
    values: OnceLock<Vec<Box<dyn Val>>>,
}

impl EntityVal {
    pub fn new(entity: Arc<Entity>) -> EntityVal {
        EntityVal(Arc::new(EntityData {
            entity,
            names: OnceLock::new(),
            values: OnceLock::new(),
        }))
    }

    pub fn entity(&self) -> &Arc<Entity> {
        &self.0.entity
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.0.entity.field_index(name)
    }

    fn names(&self) -> &[CelString<'static>] {
        self.0
            .names
            .get_or_init(|| self.0.entity.fields.iter().map(|(n, _)| CelString::from(*n)).collect())
    }

    fn values(&self) -> &[Box<dyn Val>] {
        self.0
            .values
            .get_or_init(|| self.0.entity.fields.iter().map(|(_, f)| field_to_val(f)).collect())
    }

    pub(super) fn same(&self, other: &EntityVal) -> bool {
        Arc::ptr_eq(&self.0.entity, &other.0.entity)
    }
}

model_val!(EntityVal, types::MAP_TYPE, container, iterable, sizer);

impl Lookup for EntityVal {
    fn lookup(&self, idx: &dyn Val) -> Result<&(dyn Val + 'static), ExecutionError> {
        let name = key_of(idx)?;
        match self.find(name).and_then(|i| self.values().get(i)) {
            Some(value) => Ok(value.as_ref()),
            None => Err(ExecutionError::no_such_key(name)),
        }
    }
}

keyed_by_names!(EntityVal);

/// An ordered collection of entities that can also be indexed by key (the
/// first entity with that key); `len` makes it a prefix view of its data.
#[derive(Debug, Clone)]
pub struct KeyedList {
    data: Arc<ListData>,
    len: usize,
}

#[derive(Debug)]
struct ListData {
    items: Vec<EntityVal>,
    /// Built on the first lookup by key, and only for lists long enough
    /// for a map to beat a scan: most groups hold an entity or two.
    first_by_key: OnceLock<FxHashMap<Arc<str>, usize>>,
    groupings: Mutex<Vec<(String, GroupIndex)>>,
    havings: Mutex<Vec<(String, KeyedList)>>,
}

/// Up to this many entries, a linear scan finds a key faster than a map.
const SCAN_LIMIT: usize = 16;

/// The view of `field` cached in `cache`, computed by `compute` the first
/// time. Only views of a whole list are cached (a prefix view is a one-off).
/// The lock is held while computing, so threads evaluating in parallel wait
/// for one computation instead of each doing it.
fn cached<T: Clone>(cache: &Mutex<Vec<(String, T)>>, whole: bool, field: &str, compute: impl FnOnce() -> T) -> T {
    if !whole {
        return compute();
    }
    let Ok(mut cache) = cache.lock() else {
        return compute();
    };
    if let Some((_, found)) = cache.iter().find(|(f, _)| f == field) {
        return found.clone();
    }
    let value = compute();
    cache.push((field.to_string(), value.clone()));
    value
}

impl KeyedList {
    pub fn new(items: Vec<EntityVal>) -> KeyedList {
        let len = items.len();
        let data = ListData {
            items,
            first_by_key: OnceLock::new(),
            groupings: Mutex::default(),
            havings: Mutex::default(),
        };
        KeyedList {
            data: Arc::new(data),
            len,
        }
    }

    pub(super) fn items(&self) -> &[EntityVal] {
        self.data.items.get(..self.len).unwrap_or(&[])
    }

    fn whole(&self) -> bool {
        self.len == self.data.items.len()
    }

    pub(super) fn same(&self, other: &KeyedList) -> bool {
        other.len == self.len && other.items().iter().zip(self.items()).all(|(a, b)| a.same(b))
    }

    pub(super) fn by_key(&self, key: &str) -> Option<&EntityVal> {
        let items = &self.data.items;
        if items.len() <= SCAN_LIMIT {
            return self.items().iter().find(|e| e.entity().key.as_ref() == key);
        }
        let index = self.data.first_by_key.get_or_init(|| {
            let mut first = FxHashMap::with_capacity_and_hasher(items.len(), Default::default());
            for (i, item) in items.iter().enumerate() {
                first.entry(item.entity().key.clone()).or_insert(i);
            }
            first
        });
        let i = *index.get(key)?;
        (i < self.len).then(|| items.get(i)).flatten()
    }

    /// Whether `entity` itself (not just its key) is in the list.
    pub(super) fn holds(&self, entity: &EntityVal) -> bool {
        let order = entity.entity().order;
        let items = self.items();
        let at = items.partition_point(|e| e.entity().order < order);
        items.get(at).is_some_and(|e| e.same(entity))
    }

    /// The entities before `entity` (by model order): a view, no copy.
    pub fn before(&self, entity: &Entity) -> KeyedList {
        let len = self.items().partition_point(|e| e.entity().order < entity.order);
        KeyedList {
            data: self.data.clone(),
            len,
        }
    }

    /// The entities that have `field`, in order; computed once per list and
    /// field.
    pub fn having(&self, field: &str) -> KeyedList {
        cached(&self.data.havings, self.whole(), field, || {
            KeyedList::new(
                self.items()
                    .iter()
                    .filter(|e| e.entity().field(field).is_some())
                    .cloned()
                    .collect(),
            )
        })
    }

    /// The entities grouped by the value of `field`, groups and their
    /// members in model order; computed once per list and field.
    pub fn group_by(&self, field: &str) -> GroupIndex {
        cached(&self.data.groupings, self.whole(), field, || {
            self.compute_group_by(field)
        })
    }

    /// The groups' members are laid out one group after the other in one
    /// vector; each group's list is made when it is asked for (on the
    /// threads that evaluate): grouping 9,000 placements by account makes
    /// 9,000 groups, and a list costs allocations.
    fn compute_group_by(&self, field: &str) -> GroupIndex {
        let items = self.items();
        let mut keys: Vec<Arc<str>> = Vec::new();
        let mut position: FxHashMap<Arc<str>, usize> = FxHashMap::default();
        let mut ends: Vec<usize> = Vec::new();
        let mut grouped: Vec<(usize, &EntityVal)> = Vec::with_capacity(items.len());
        for item in items {
            let key: Arc<str> = match item.entity().field(field).map(|f| &f.value) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => Arc::from(if *b { "true" } else { "false" }),
                Some(Value::Number(n)) => Arc::from(n.to_string().as_str()),
                _ => continue,
            };
            let at = match position.get(&key) {
                Some(&at) => at,
                None => {
                    position.insert(key.clone(), keys.len());
                    keys.push(key);
                    ends.push(0);
                    keys.len() - 1
                }
            };
            if let Some(size) = ends.get_mut(at) {
                *size += 1;
            }
            grouped.push((at, item));
        }
        // Sizes to ends.
        let mut end = 0;
        for size in &mut ends {
            end += *size;
            *size = end;
        }
        // Stable: each group's members stay in model order.
        grouped.sort_by_key(|&(group, _)| group);
        GroupIndex(Arc::new(GroupData {
            names: OnceLock::new(),
            groups: keys.iter().map(|_| OnceLock::new()).collect(),
            keys,
            members: grouped.into_iter().map(|(_, item)| item.clone()).collect(),
            ends,
            position,
        }))
    }
}

model_val!(KeyedList, types::LIST_TYPE, container, iterable, sizer);

impl Lookup for KeyedList {
    fn lookup(&self, idx: &dyn Val) -> Result<&(dyn Val + 'static), ExecutionError> {
        if let Some(i) = idx.downcast_ref::<CelInt>() {
            let index = *i.inner();
            return usize::try_from(index)
                .ok()
                .and_then(|i| self.items().get(i))
                .map(|e| e as &(dyn Val + 'static))
                .ok_or_else(|| ExecutionError::IndexOutOfBounds(cel::Value::Int(index)));
        }
        let key = key_of(idx)?;
        self.by_key(key)
            .map(|e| e as &(dyn Val + 'static))
            .ok_or_else(|| ExecutionError::no_such_key(key))
    }
}

impl Container for KeyedList {
    fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
        if let Some(entity) = value.downcast_ref::<EntityVal>() {
            return Ok(self.holds(entity));
        }
        Ok(key_of(value).ok().is_some_and(|k| self.by_key(k).is_some()))
    }
}

impl Sizer for KeyedList {
    fn size(&self) -> CelInt {
        size_of(self.len)
    }
}

impl Iterable for KeyedList {
    fn iter<'b, 'w>(&'b self) -> Box<dyn CelIterator<'b, 'w> + 'b>
    where
        Self: 'w,
    {
        Box::new(Lend {
            items: self.items(),
            position: 0,
        })
    }
}

/// A grouping: a map from field values to the entities that have them, keys
/// in the order of their first entity.
#[derive(Debug, Clone)]
pub struct GroupIndex(Arc<GroupData>);

#[derive(Debug)]
struct GroupData {
    /// The distinct values, in the order of their first entity.
    keys: Vec<Arc<str>>,
    /// The same values as CEL strings, for cel's iteration; made on first
    /// use (native evaluation iterates `keys`).
    names: OnceLock<Vec<CelString<'static>>>,
    /// The members of every group, group after group, each in model order.
    members: Vec<EntityVal>,
    /// Where each group's members end in `members`.
    ends: Vec<usize>,
    /// Each group's list, made the first time it is asked for.
    groups: Vec<OnceLock<KeyedList>>,
    position: FxHashMap<Arc<str>, usize>,
}

impl GroupIndex {
    /// The entities whose field has the value `key`.
    pub(super) fn group(&self, key: &str) -> Option<&KeyedList> {
        let at = self.find(key)?;
        let members = self.members(at)?;
        Some(self.0.groups.get(at)?.get_or_init(|| KeyedList::new(members.to_vec())))
    }

    /// The distinct values, in the order of their first entity.
    pub(super) fn keys(&self) -> &[Arc<str>] {
        &self.0.keys
    }

    fn find(&self, key: &str) -> Option<usize> {
        if self.0.keys.len() <= SCAN_LIMIT {
            self.0.keys.iter().position(|k| k.as_ref() == key)
        } else {
            self.0.position.get(key).copied()
        }
    }

    fn names(&self) -> &[CelString<'static>] {
        self.0
            .names
            .get_or_init(|| self.0.keys.iter().map(|k| CelString::from(k.to_string())).collect())
    }

    /// Equality by value, as CEL compares maps: the same values, each with
    /// the same entities in the same order, however the two were made.
    pub(super) fn same(&self, other: &GroupIndex) -> bool {
        if Arc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        self.0.keys.len() == other.0.keys.len()
            && self.0.keys.iter().enumerate().all(|(at, key)| {
                let (Some(mine), Some(at_other)) = (self.members(at), other.find(key)) else {
                    return false;
                };
                other
                    .members(at_other)
                    .is_some_and(|theirs| mine.len() == theirs.len() && mine.iter().zip(theirs).all(|(a, b)| a.same(b)))
            })
    }

    /// The members of the group at `at`, in model order.
    fn members(&self, at: usize) -> Option<&[EntityVal]> {
        let data = &self.0;
        let start = at
            .checked_sub(1)
            .and_then(|before| data.ends.get(before))
            .copied()
            .unwrap_or(0);
        data.members.get(start..*data.ends.get(at)?)
    }
}

model_val!(GroupIndex, types::MAP_TYPE, container, iterable, sizer);
keyed_by_names!(GroupIndex);

impl Lookup for GroupIndex {
    fn lookup(&self, idx: &dyn Val) -> Result<&(dyn Val + 'static), ExecutionError> {
        let key = key_of(idx)?;
        self.group(key)
            .map(|g| g as &(dyn Val + 'static))
            .ok_or_else(|| ExecutionError::no_such_key(key))
    }
}

/// `model`: one keyed list per collection.
#[derive(Debug, Clone)]
pub struct ModelVal(Arc<Vec<(CelString<'static>, KeyedList)>>);

impl ModelVal {
    pub fn new(model: &Model) -> ModelVal {
        let collections = model
            .collections
            .iter()
            .map(|(name, entities)| {
                let items = entities.iter().cloned().map(EntityVal::new).collect();
                (CelString::from(name.name()), KeyedList::new(items))
            })
            .collect();
        ModelVal(Arc::new(collections))
    }

    /// The entity values of a collection, in order.
    pub fn collection(&self, collection: Collection) -> &[EntityVal] {
        self.list(collection.name()).map_or(&[], KeyedList::items)
    }

    /// A collection, if the model has it.
    pub fn list(&self, name: &str) -> Option<&KeyedList> {
        self.0.iter().find(|(n, _)| n.inner() == name).map(|(_, list)| list)
    }

    fn same(&self, other: &ModelVal) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

model_val!(ModelVal, types::MAP_TYPE);

impl Lookup for ModelVal {
    fn lookup(&self, idx: &dyn Val) -> Result<&(dyn Val + 'static), ExecutionError> {
        let key = key_of(idx)?;
        self.list(key)
            .map(|list| list as &(dyn Val + 'static))
            .ok_or_else(|| ExecutionError::no_such_key(key))
    }
}

/// `variables`: a policy's variables, each set once it is evaluated. Bound
/// once per evaluation; setting a variable then costs no new binding.
#[derive(Debug, Clone)]
pub struct VariablesVal(Arc<VariableSlots>);

#[derive(Debug)]
struct VariableSlots {
    names: Arc<[Arc<str>]>,
    values: Vec<OnceLock<Box<dyn Val>>>,
}

impl VariablesVal {
    pub fn new(names: Arc<[Arc<str>]>) -> VariablesVal {
        let values = names.iter().map(|_| OnceLock::new()).collect();
        VariablesVal(Arc::new(VariableSlots { names, values }))
    }

    /// Sets the variable at `index`, in declaration order.
    pub fn set(&self, index: usize, value: Box<dyn Val>) {
        if let Some(slot) = self.0.values.get(index) {
            let _ = slot.set(value);
        }
    }

    fn same(&self, other: &VariablesVal) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

model_val!(VariablesVal, types::MAP_TYPE);

impl Lookup for VariablesVal {
    fn lookup(&self, idx: &dyn Val) -> Result<&(dyn Val + 'static), ExecutionError> {
        let key = key_of(idx)?;
        self.0
            .names
            .iter()
            .position(|n| n.as_ref() == key)
            .and_then(|i| self.0.values.get(i)?.get())
            .map(|v| v.as_ref())
            .ok_or_else(|| ExecutionError::no_such_key(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Location;
    use crate::model::Field;
    use crate::source::{SourceId, Span};

    fn cluster(order: u64, pool: Option<Value>) -> EntityVal {
        let location = Location {
            source: SourceId(0),
            span: Span::default(),
        };
        let fields = pool
            .map(|value| vec![("pool", Field { value, location })])
            .unwrap_or_default();
        EntityVal::new(Arc::new(Entity {
            collection: Collection::Clusters,
            key: Arc::from(format!("c{order}")),
            occurrence: 1,
            order,
            location,
            fields,
        }))
    }

    fn keys_of(list: &KeyedList) -> Vec<String> {
        list.items().iter().map(|e| e.entity().key.to_string()).collect()
    }

    #[test]
    fn groups_keep_the_order_of_their_first_entity_and_members_keep_model_order() {
        let text = |s: &str| Some(Value::String(Arc::from(s)));
        let list = KeyedList::new(vec![
            cluster(0, text("blue")),
            cluster(1, text("green")),
            cluster(2, None),
            cluster(3, text("blue")),
            cluster(4, Some(Value::Bool(true))),
            cluster(5, text("green")),
            cluster(6, text("blue")),
        ]);
        let groups = list.group_by("pool");
        let keys: Vec<&str> = groups.keys().iter().map(AsRef::as_ref).collect();
        assert_eq!(keys, ["blue", "green", "true"]);
        let members = |key: &str| groups.group(key).map(keys_of);
        assert_eq!(members("blue"), Some(vec!["c0".into(), "c3".into(), "c6".into()]));
        assert_eq!(members("green"), Some(vec!["c1".into(), "c5".into()]));
        assert_eq!(members("true"), Some(vec!["c4".into()]));
        assert_eq!(members("red"), None);
        // Asked again: the same list, not a new one.
        let again = list.group_by("pool");
        assert!(groups.same(&again));
        assert!(std::ptr::eq(
            groups.group("blue").expect("blue"),
            again.group("blue").expect("blue")
        ));
    }
}
