//! Run identifiers: `20261129T095100123Z-3f9a1c`, a UTC timestamp to the
//! millisecond plus 24 bits from the process id and clock, so names sort by
//! time and two processes starting together do not collide; and write tokens
//! that tell one create-if-absent write from every other.

use std::sync::atomic::{AtomicU64, Ordering};

/// A new run id.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let salt = crate::checksum::sha256_hex(
        format!("{}-{:?}", std::process::id(), now.timestamp_nanos_opt()).as_bytes(),
    );
    format!("{}-{}", now.format("%Y%m%dT%H%M%S%3fZ"), &salt[..6])
}

/// A token no other call returns, on any machine with another host name, in
/// any other process or thread: host, process id, a per-process counter and
/// the clock. Stored in claim and promotion records so that a retried write
/// can recognise its own record (see `Location::create_json`).
pub fn write_token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let host = gethostname::gethostname();
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!(
        "{}-{}-{count}-{nanos}",
        host.to_string_lossy(),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn write_tokens_differ_within_a_process() {
        let tokens: std::collections::HashSet<_> =
            (0..1000).map(|_| super::write_token()).collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn ids_sort_by_time_and_differ() {
        let a = super::new_run_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::new_run_id();
        assert!(a < b, "{a} {b}");
        assert_eq!(a.len(), "20261129T095100123Z-3f9a1c".len());
    }
}
