//! Run identifiers: `20261129T095100123Z-3f9a1c`, a UTC timestamp to the
//! millisecond plus 24 bits from the process id and clock, so names sort by
//! time and two processes starting together do not collide.

/// A new run id.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let salt = crate::checksum::sha256_hex(
        format!("{}-{:?}", std::process::id(), now.timestamp_nanos_opt()).as_bytes(),
    );
    format!("{}-{}", now.format("%Y%m%dT%H%M%S%3fZ"), &salt[..6])
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_sort_by_time_and_differ() {
        let a = super::new_run_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::new_run_id();
        assert!(a < b, "{a} {b}");
        assert_eq!(a.len(), "20261129T095100123Z-3f9a1c".len());
    }
}
