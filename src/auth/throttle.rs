//! Throttling of token requests (`POST /oauth/token`), kept in the database (`auth_throttle`) so
//! every instance on one database sees the same counts.
//!
//! The rule (defaults in brackets; the README says the same):
//!
//! - **Per pair** (client id, address). The first `free_failures` [5] failures of a pair are
//!   answered at once. After its `f`-th failure (`f ≥ free_failures`) the pair's next attempt is
//!   refused (429, `Retry-After`) until `2^(f − free_failures)` seconds have passed since that
//!   failure (1 s, 2 s, 4 s, …), at most `window` [900 s]. A pair's count is forgotten `window`
//!   after its last failure, and an issued token deletes it.
//! - **Per address**, over all client ids: at most `address_max_failures` [300] failures in a
//!   window of `window` that starts with the first failure; then every attempt from the address
//!   is refused until that window ends. Issued tokens do not count.
//! - Every attempt is **reserved before the secret is checked**: the pair's and the address's
//!   counters are read and raised in one transaction (row locks on PostgreSQL, `BEGIN
//!   IMMEDIATE` on SQLite), so concurrent attempts, on any number of instances, can never get
//!   more secrets checked than the rule allows. A successful grant takes its reservation back.
//!   A refused attempt is neither checked nor counted.
//!
//! So a correct secret is never refused because of failures for another client id (below the
//! address ceiling) or from another address.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::config::AuthArgs;
use crate::db::DbConn;
use crate::db::schema::auth_throttle;
use crate::error::{AppError, AppResult};
pub use crate::net::{IpNet, TrustedProxies};

/// `client_id` of the per-address rows. Never a real client id (those are `bsc_…`); the grant
/// refuses it as a client id before anything is counted.
pub const ADDRESS_ROW: &str = "*";

/// Stale rows are removed after every issued token and every this many reservations (per
/// process).
const PURGE_EVERY: u64 = 64;
/// At most this many stale rows are removed at once.
const PURGE_BATCH: i64 = 1000;

/// The throttling rule (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures of a pair answered without delay.
    pub free_failures: u32,
    /// How long a pair's count lasts after its last failure; the longest delay; the length of
    /// the address window.
    pub window: TimeDelta,
    /// Failures per address and window, over all client ids.
    pub address_max_failures: u32,
}

impl ThrottlePolicy {
    pub fn from_args(args: &AuthArgs) -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: args.auth_max_failures.max(1),
            window: TimeDelta::seconds(args.auth_failure_window_secs.clamp(1, 7 * 24 * 3600) as i64),
            address_max_failures: args.auth_address_max_failures.max(1),
        }
    }

    /// How long a pair waits after its `failures`-th failure: nothing for the free failures,
    /// then `2^(failures − free_failures)` seconds, at most the window.
    pub fn delay_after(&self, failures: i64) -> Option<TimeDelta> {
        let k = failures - i64::from(self.free_failures);
        if k < 0 {
            return None;
        }
        let secs = 1i64 << k.min(40);
        Some(TimeDelta::seconds(secs).min(self.window))
    }
}

/// The policy and a per-process counter that spaces out the removal of stale rows.
#[derive(Debug)]
pub struct Throttle {
    pub policy: ThrottlePolicy,
    reservations: AtomicU64,
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Throttle {
        Throttle {
            policy,
            reservations: AtomicU64::new(0),
        }
    }

    /// Reserve one attempt of `client_id` from `address` at `now` (see [`reserve`]); now and
    /// then also removes stale rows.
    pub fn reserve(
        &self,
        conn: &mut DbConn,
        client_id: &str,
        address: &str,
        now: NaiveDateTime,
    ) -> AppResult<()> {
        let result = reserve(conn, &self.policy, client_id, address, now);
        if self.reservations.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1 {
            self.purge_quietly(conn, now);
        }
        result
    }

    /// A token was issued: take the reservation back and clear the pair (see [`release`]).
    pub fn release(
        &self,
        conn: &mut DbConn,
        client_id: &str,
        address: &str,
        now: NaiveDateTime,
    ) -> AppResult<()> {
        release(conn, client_id, address)?;
        self.purge_quietly(conn, now);
        Ok(())
    }

    fn purge_quietly(&self, conn: &mut DbConn, now: NaiveDateTime) {
        if let Err(e) = purge(conn, &self.policy, now) {
            tracing::warn!(error = %e, "removing stale auth_throttle rows failed");
        }
    }
}

/// One row of `auth_throttle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable)]
struct Counter {
    failures: i64,
    first_failure_at: NaiveDateTime,
    last_failure_at: NaiveDateTime,
    blocked_until: Option<NaiveDateTime>,
}

/// Whole seconds until `until`, rounded up, at least 1: a client that waits this long is let in.
fn retry_after(until: NaiveDateTime, now: NaiveDateTime) -> u64 {
    let ms = (until - now).num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// Create the row if missing (with no failures) and lock it until the transaction ends
/// (PostgreSQL: `ON CONFLICT DO UPDATE` locks the row and returns its newest version; SQLite:
/// the transaction holds the write lock already).
fn lock(
    conn: &mut DbConn,
    client_id: &str,
    address: &str,
    now: NaiveDateTime,
) -> AppResult<Counter> {
    use auth_throttle::dsl as t;
    let row = (
        t::client_id.eq(client_id),
        t::address.eq(address),
        t::failures.eq(0i64),
        t::first_failure_at.eq(now),
        t::last_failure_at.eq(now),
        t::blocked_until.eq(None::<NaiveDateTime>),
    );
    Ok(crate::with_conn!(conn, |c| diesel::insert_into(
        t::auth_throttle
    )
    .values(row)
    .on_conflict((t::client_id, t::address))
    .do_update()
    .set(t::failures.eq(t::failures))
    .returning((
        t::failures,
        t::first_failure_at,
        t::last_failure_at,
        t::blocked_until
    ))
    .get_result::<Counter>(c))?)
}

fn store(conn: &mut DbConn, client_id: &str, address: &str, counter: Counter) -> AppResult<()> {
    use auth_throttle::dsl as t;
    diesel::update(t::auth_throttle.find((client_id, address)))
        .set((
            t::failures.eq(counter.failures),
            t::first_failure_at.eq(counter.first_failure_at),
            t::last_failure_at.eq(counter.last_failure_at),
            t::blocked_until.eq(counter.blocked_until),
        ))
        .execute(conn)?;
    Ok(())
}

/// Reserve one attempt of `client_id` from `address` at `now`, before its secret is checked:
/// `Err(RateLimited)` while the pair waits out its delay or the address is over its ceiling;
/// otherwise the attempt is counted as a failure of the pair and of the address (taken back by
/// [`release`] if it succeeds). Atomic: concurrent reservations, from any instance, take turns.
pub fn reserve(
    conn: &mut DbConn,
    policy: &ThrottlePolicy,
    client_id: &str,
    address: &str,
    now: NaiveDateTime,
) -> AppResult<()> {
    if client_id == ADDRESS_ROW {
        return Err(AppError::internal(
            "the address row's key is not a client id",
        ));
    }
    let window = policy.window;
    // Refusals return an error, so the transaction is rolled back and leaves no trace.
    crate::db::transaction(conn, |conn| {
        // Always the pair first, then the address: one lock order, no deadlocks.
        let pair = Some(lock(conn, client_id, address, now)?)
            .filter(|c| c.failures > 0 && now - c.last_failure_at < window);
        if let Some(until) = pair.and_then(|c| c.blocked_until)
            && until > now
        {
            return Err(AppError::RateLimited {
                retry_after_secs: retry_after(until, now),
            });
        }
        let addr = Some(lock(conn, ADDRESS_ROW, address, now)?)
            .filter(|c| c.failures > 0 && now - c.first_failure_at < window);
        if let Some(a) = addr
            && a.failures >= i64::from(policy.address_max_failures)
        {
            return Err(AppError::RateLimited {
                retry_after_secs: retry_after(a.first_failure_at + window, now),
            });
        }
        let failures = pair.map_or(0, |c| c.failures) + 1;
        store(
            conn,
            client_id,
            address,
            Counter {
                failures,
                first_failure_at: pair.map_or(now, |c| c.first_failure_at),
                last_failure_at: now,
                blocked_until: policy.delay_after(failures).map(|d| now + d),
            },
        )?;
        store(
            conn,
            ADDRESS_ROW,
            address,
            Counter {
                failures: addr.map_or(0, |c| c.failures) + 1,
                first_failure_at: addr.map_or(now, |c| c.first_failure_at),
                last_failure_at: now,
                blocked_until: None,
            },
        )
    })
}

/// A token was issued to `client_id` at `address`: forget the pair's failures and take the
/// reservation back from the address count.
pub fn release(conn: &mut DbConn, client_id: &str, address: &str) -> AppResult<()> {
    use auth_throttle::dsl as t;
    crate::db::transaction(conn, |conn| {
        diesel::delete(t::auth_throttle.find((client_id, address))).execute(conn)?;
        diesel::update(
            t::auth_throttle
                .find((ADDRESS_ROW, address))
                .filter(t::failures.gt(0)),
        )
        .set(t::failures.eq(t::failures - 1))
        .execute(conn)?;
        Ok(())
    })
}

/// Remove rows whose window has passed (no failure for `window`): forgotten pairs and ended
/// address windows. At most [`PURGE_BATCH`] at once; on PostgreSQL rows that a reservation holds
/// are skipped, so this never waits for (or deadlocks with) one.
pub fn purge(conn: &mut DbConn, policy: &ThrottlePolicy, now: NaiveDateTime) -> AppResult<usize> {
    use diesel::sql_types::{BigInt, Timestamp};
    let cutoff = now - policy.window;
    Ok(match conn {
        DbConn::Pg(c) => diesel::sql_query(
            "DELETE FROM auth_throttle WHERE (client_id, address) IN (\
               SELECT client_id, address FROM auth_throttle WHERE last_failure_at <= $1 \
               LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Timestamp, _>(cutoff)
        .bind::<BigInt, _>(PURGE_BATCH)
        .execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(
            "DELETE FROM auth_throttle WHERE rowid IN (\
               SELECT rowid FROM auth_throttle WHERE last_failure_at <= ? LIMIT ?)",
        )
        .bind::<Timestamp, _>(cutoff)
        .bind::<BigInt, _>(PURGE_BATCH)
        .execute(c)?,
    })
}

/// The key an address is counted under: IPv4 addresses as they are, IPv6 addresses by their
/// /64 network (one host usually holds a whole /64), IPv4-mapped IPv6 addresses as IPv4.
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let net = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(net))
        }
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then
/// `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first address
/// that is not one is the client (all trusted: the leftmost; an entry that is not an address
/// ends the walk at the hop before it). Without trusted proxies the header is ignored.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: &[&str],
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut addr = peer?.to_canonical();
    if !is_trusted(addr) {
        return Some(addr);
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let parsed = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()));
        let Ok(ip) = parsed else {
            return Some(addr);
        };
        addr = ip.to_canonical();
        if !is_trusted(addr) {
            return Some(addr);
        }
    }
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 5,
            window: TimeDelta::seconds(900),
            address_max_failures: 300,
        }
    }

    #[test]
    fn delays_double_after_the_free_failures_up_to_the_window() {
        let p = policy();
        let secs = |f| p.delay_after(f).map(|d| d.num_seconds());
        assert_eq!(secs(4), None);
        assert_eq!(secs(5), Some(1));
        assert_eq!(secs(6), Some(2));
        assert_eq!(secs(7), Some(4));
        assert_eq!(secs(14), Some(512));
        assert_eq!(secs(15), Some(900));
        assert_eq!(secs(1_000_000), Some(900));
    }

    #[test]
    fn retry_after_rounds_up() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(retry_after(t + TimeDelta::milliseconds(1), t), 1);
        assert_eq!(retry_after(t + TimeDelta::milliseconds(2001), t), 3);
        assert_eq!(retry_after(t, t), 1);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(address_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(address_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_eq!(address_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_key(None), "unknown");
    }

    #[test]
    fn forwarded_for_is_read_only_behind_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let nets: TrustedProxies = " 10.9.0.0/16,, fd00::1 ".parse().unwrap();
        assert_eq!(nets.len(), 2);
        assert_eq!("".parse::<TrustedProxies>().unwrap().len(), 0);
        assert!("10.0.0.1,bogus".parse::<TrustedProxies>().is_err());
        // Untrusted peer: the header is ignored.
        assert_eq!(
            client_address(Some(ip("198.51.100.1")), &["203.0.113.7"], &nets),
            Some(ip("198.51.100.1"))
        );
        // No trusted proxies at all: ignored.
        assert_eq!(
            client_address(Some(ip("10.9.0.1")), &["203.0.113.7"], &[]),
            Some(ip("10.9.0.1"))
        );
        // Trusted peer: the rightmost untrusted hop; what the client wrote further left is not read.
        assert_eq!(
            client_address(
                Some(ip("10.9.0.1")),
                &["1.1.1.1, 203.0.113.7", "10.9.3.4"],
                &nets
            ),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            client_address(Some(ip("fd00::1")), &["[2001:db8::5]:4711"], &nets),
            Some(ip("2001:db8::5"))
        );
        // Garbage ends the walk at the last trusted hop; all trusted: the leftmost.
        assert_eq!(
            client_address(Some(ip("10.9.0.1")), &["203.0.113.7, junk"], &nets),
            Some(ip("10.9.0.1"))
        );
        assert_eq!(
            client_address(Some(ip("10.9.0.1")), &["10.9.0.2"], &nets),
            Some(ip("10.9.0.2"))
        );
        assert_eq!(
            client_address(Some(ip("10.9.0.1")), &[], &nets),
            Some(ip("10.9.0.1"))
        );
    }

    #[test]
    fn networks_parse_and_match() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains("10.200.1.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        let one: IpNet = "2001:db8::1".parse().unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("example.org".parse::<IpNet>().is_err());
    }
}
