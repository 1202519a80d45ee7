//! Work spread over threads, with results in input order: what a run prints
//! never depends on the thread count or on which thread did what.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// `work` applied to every item (with its index), on up to `threads` threads (the calling
/// thread is one of them), each with `stack_bytes` of stack when given. Each
/// thread makes its own state with `init` first. Items are handed out one at
/// a time, so a slow item does not hold up a whole share of them.
///
/// A result is `None` only when its worker panicked; the panic itself goes
/// on to the caller when all threads have stopped.
pub fn map<T: Sync, S, R: Send>(
    items: &[T],
    threads: usize,
    stack_bytes: Option<usize>,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    map_in_order(items, None, threads, stack_bytes, init, work)
}

/// [`map`], handing out the costliest items first (by `cost`, ties in input
/// order): one large item handed out last would otherwise leave every other
/// thread idle while it runs. Results are still in input order.
pub fn map_costliest_first<T: Sync, S, R: Send>(
    items: &[T],
    cost: impl Fn(&T) -> u64,
    threads: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize, &T) -> R + Sync,
) -> Vec<Option<R>> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(items.get(index).map_or(0, &cost)));
    map_in_order(items, Some(&order), threads, None, init, work)
}

/// Hands out `items` in `order` (indices; input order when `None`).
fn map_in_order<T: Sync, S, R: Send>(
    items: &[T],
    order: Option<&[usize]>,
    threads: usize,
    stack_bytes: Option<usize>,
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
    let threads = threads.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let mut builder = std::thread::Builder::new();
            if let Some(bytes) = stack_bytes {
                builder = builder.stack_size(bytes);
            }
            // A thread that cannot start leaves its share to the others.
            let _ = builder.spawn_scoped(scope, worker);
        }
        worker();
    });
    results
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        for threads in [1, 2, 7] {
            let squares = map(&items, threads, None, || (), |(), _, n| n * n);
            let expected: Vec<Option<u64>> = items.iter().map(|n| Some(n * n)).collect();
            assert_eq!(squares, expected, "{threads} threads");
        }
    }

    #[test]
    fn costliest_items_are_handed_out_first_and_results_keep_input_order() {
        let items: Vec<u64> = vec![3, 9, 1, 9, 5];
        let handed_out = Mutex::new(Vec::new());
        let doubled = map_costliest_first(
            &items,
            |&n| n,
            1,
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
