//! Failed token requests, counted per client id and per IP address in a sliding window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct FailureLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

const MAX_TRACKED_KEYS: usize = 100_000;

impl FailureLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        FailureLimiter {
            max: max.max(1),
            window,
            failures: Mutex::default(),
        }
    }

    /// `Err(seconds until a retry may succeed)` when any key has used up its failures.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("limiter lock");
        let mut wait = 0u64;
        for key in keys {
            if let Some(q) = map.get_mut(key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    q.pop_front();
                }
                if q.len() as u32 >= self.max {
                    let oldest = *q.front().expect("non-empty");
                    let left = self.window.saturating_sub(now.duration_since(oldest));
                    wait = wait.max(left.as_secs().max(1));
                }
            }
        }
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    pub fn record(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("limiter lock");
        if map.len() > MAX_TRACKED_KEYS {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        for key in keys {
            let q = map.entry(key.clone()).or_default();
            q.push_back(now);
            while q.len() as u32 > self.max {
                q.pop_front();
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_and_counts_keys_separately() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let a = vec!["client:a".to_owned(), "ip:1".to_owned()];
        for _ in 0..3 {
            assert!(l.check(&a).is_ok());
            l.record(&a);
        }
        assert!(l.check(&a).is_err());
        assert!(l.check(&["client:b".to_owned()]).is_ok());
        assert!(l.check(&["ip:1".to_owned()]).is_err());
        l.clear("client:a");
        assert!(l.check(&["client:a".to_owned()]).is_ok());
    }
}
