//! Work spread over the run's threads, with results in input order: what a
//! run prints never depends on the thread count or on which thread did what.
//! The threads live for the whole run (a rayon pool): the ones that read and
//! parsed the files go on to evaluate the policies with their memory already
//! mapped, and no stage waits for a thread to start. Fresh threads cost the
//! evaluation about 1 ms each before their first task, with spikes of 4 ms.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

pub use rayon::ThreadPool as Pool;

/// A pool of `threads` threads with `stack_bytes` of stack each.
pub fn pool(threads: usize, stack_bytes: usize) -> Result<Pool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .stack_size(stack_bytes)
        .thread_name(|index| format!("planelint-{index}"))
        .build()
}

/// `work` applied to every item (with its index), on the threads of `pool`;
/// the calling thread waits. Each thread makes its own state with `init`
/// first. Items are handed out one at a time, so a slow item does not hold
/// up a whole share of them.
///
/// A result is `None` only when its worker panicked; the panic itself goes
/// on to the caller when all threads have stopped.
pub fn map<T: Sync, S, R: Send>(
    items: &[T],
    pool: &Pool,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    map_in_order(items, None, pool, init, work)
}

/// [`map`], handing out the costliest items first (by `cost`, ties in input
/// order): one large item handed out last would otherwise leave every other
/// thread idle while it runs. Results are still in input order.
pub fn map_costliest_first<T: Sync, S, R: Send>(
    items: &[T],
    cost: impl Fn(&T) -> u64,
    pool: &Pool,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(items.get(index).map_or(0, &cost)));
    map_in_order(items, Some(&order), pool, init, work)
}

/// Hands out `items` in `order` (indices; input order when `None`).
fn map_in_order<T: Sync, S, R: Send>(
    items: &[T],
    order: Option<&[usize]>,
    pool: &Pool,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let worker = || {
        let mut state = init();
        loop {
            let turn = next.fetch_add(1, Ordering::Relaxed);
            let index = match order {
                Some(order) => match order.get(turn) {
                    Some(&index) => index,
                    None => break,
                },
                None => turn,
            };
            let (Some(item), Some(slot)) = (items.get(index), results.get(index)) else {
                break;
            };
            let result = work(&mut state, index, item);
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        }
    };
    let workers = pool.current_num_threads().clamp(1, items.len().max(1));
    pool.scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| worker());
        }
    });
    results
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect()
}

thread_local! {
    /// What this thread is working on (a file, or the policies of a model):
    /// named by the last-resort panic message, which runs on the panicking
    /// thread, so a crash report says which input caused it.
    static CURRENT_WORK: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// What the calling thread was working on last, for a panic message.
pub fn current_work() -> String {
    let work = CURRENT_WORK.with(|w| w.borrow().clone());
    if work.is_empty() { "the run".to_string() } else { work }
}

/// Notes what the calling thread works on, in a buffer it reuses: this runs
/// once per file.
pub fn working_on(what: &str) {
    CURRENT_WORK.with(|w| {
        let mut work = w.borrow_mut();
        work.clear();
        work.push_str(what);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        for threads in [1, 2, 7] {
            let pool = pool(threads, 1 << 20).unwrap_or_else(|e| panic!("{e}"));
            let squares = map(&items, &pool, || (), |(), _, n| n * n);
            let expected: Vec<Option<u64>> = items.iter().map(|n| Some(n * n)).collect();
            assert_eq!(squares, expected, "{threads} threads");
        }
    }

    #[test]
    fn costliest_items_are_handed_out_first_and_results_keep_input_order() {
        let items: Vec<u64> = vec![3, 9, 1, 9, 5];
        let handed_out = Mutex::new(Vec::new());
        let pool = pool(1, 1 << 20).unwrap_or_else(|e| panic!("{e}"));
        let doubled = map_costliest_first(
            &items,
            |&n| n,
            &pool,
            || (),
            |(), index, n| {
                handed_out.lock().unwrap_or_else(PoisonError::into_inner).push(index);
                n * 2
            },
        );
        assert_eq!(doubled, vec![Some(6), Some(18), Some(2), Some(18), Some(10)]);
        assert_eq!(
            handed_out.into_inner().unwrap_or_else(PoisonError::into_inner),
            vec![1, 3, 4, 0, 2]
        );
    }
}
