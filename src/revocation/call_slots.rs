//! Slots for `GetUser` calls in flight: a bound on all of them, and a smaller one on one user
//! pool's, so that one tenant's burst leaves slots to the others. A call without a free slot
//! waits for one, first come first served, within a limit.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::lock::lock;

/// The slots of every pool, and of each.
pub(crate) struct CallSlots {
    all: Arc<Semaphore>,
    per_pool: usize,
    /// Only pools with a call in flight or waiting keep an entry long: unused ones are dropped
    /// when a new pool is added, so the map holds about the pools in use.
    pools: Mutex<HashMap<Arc<str>, Arc<Semaphore>>>,
}

/// One call's slot, of its pool and of all: freed when dropped.
pub(crate) struct Slot {
    _pool: OwnedSemaphorePermit,
    _all: OwnedSemaphorePermit,
}

impl CallSlots {
    /// At most `total` calls in flight, at most `per_pool` of them for one pool.
    pub(crate) fn new(total: usize, per_pool: usize) -> Self {
        Self {
            all: Arc::new(Semaphore::new(total)),
            per_pool,
            pools: Mutex::default(),
        }
    }

    /// A slot for a call of `pool`, if one is free now and nobody waits for one.
    pub(crate) fn try_take(&self, pool: &str) -> Option<Slot> {
        Some(Slot {
            _pool: self.pool(pool).try_acquire_owned().ok()?,
            _all: Arc::clone(&self.all).try_acquire_owned().ok()?,
        })
    }

    /// A slot for a call of `pool`, waiting at most `limit` for one: first the pool's, then
    /// one of all. `None` when none came free in time.
    pub(crate) async fn take(&self, pool: &str, limit: Duration) -> Option<Slot> {
        let pool = self.pool(pool);
        tokio::time::timeout(limit, async {
            Some(Slot {
                _pool: pool.acquire_owned().await.ok()?,
                _all: Arc::clone(&self.all).acquire_owned().await.ok()?,
            })
        })
        .await
        .ok()
        .flatten()
    }

    fn pool(&self, pool: &str) -> Arc<Semaphore> {
        // Changed in one step at a time: a poisoned lock is still usable.
        let mut pools = lock(&self.pools);
        if let Some(slots) = pools.get(pool) {
            return Arc::clone(slots);
        }
        // An entry only the map holds has no slot taken and nobody waiting.
        pools.retain(|_, slots| Arc::strong_count(slots) > 1);
        let slots = Arc::new(Semaphore::new(self.per_pool));
        pools.insert(pool.into(), Arc::clone(&slots));
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::ZERO;

    #[tokio::test]
    async fn one_pool_takes_its_share_and_the_others_the_rest() {
        let slots = CallSlots::new(3, 2);
        let first = [slots.try_take("a"), slots.try_take("a")];
        assert!(first.iter().all(Option::is_some));
        assert!(slots.try_take("a").is_none(), "pool a has its share");
        assert!(slots.take("a", NOW).await.is_none());
        let other = slots.try_take("b");
        assert!(other.is_some(), "pool b is not starved by a");
        assert!(slots.try_take("c").is_none(), "every slot is taken");
        drop(other);
        assert!(slots.try_take("c").is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_waits_for_a_slot_within_its_limit() {
        let slots = Arc::new(CallSlots::new(1, 1));
        let held = slots.try_take("a").unwrap();
        let waiting = {
            let slots = Arc::clone(&slots);
            tokio::spawn(async move { slots.take("a", Duration::from_secs(2)).await.is_some() })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            slots.try_take("a").is_none(),
            "the waiting call is first in line"
        );
        drop(held);
        assert!(waiting.await.unwrap(), "freed within the limit");
        let _held = slots.try_take("a").unwrap();
        assert!(slots.take("b", Duration::from_secs(1)).await.is_none());
    }

    #[tokio::test]
    async fn pools_without_calls_are_forgotten() {
        let slots = CallSlots::new(8, 2);
        drop(slots.try_take("a"));
        let held = slots.try_take("b");
        slots.try_take("c");
        let pools = slots.pools.lock().unwrap();
        assert!(held.is_some());
        assert_eq!(pools.len(), 2, "a went when b came; b is in use");
        assert!(pools.contains_key("b") && pools.contains_key("c"));
    }
}
