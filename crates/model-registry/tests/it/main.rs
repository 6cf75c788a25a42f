//! Integration tests for the registry: one conformance suite on local disk,
//! memory and S3, plus multi-process and command-line tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod suite;

macro_rules! backend {
    ($backend:ident: $($test:ident),*) => {
        mod $backend {
            $(
                #[test]
                fn $test() {
                    let Some(store) =
                        common::testing::TestStore::unless_skipped(stringify!($backend))
                    else {
                        return;
                    };
                    crate::suite::$test(store.location().as_str());
                }
            )*
        }
    };
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        backend!(local: $($test),*);
        backend!(memory: $($test),*);
        backend!(s3: $($test),*);
    };
}

conformance!(
    sixteen_concurrent_publishers_get_versions_1_to_16,
    eight_concurrent_promotions_form_one_history,
    concurrent_gated_promotions_only_ever_improve,
    killed_publisher_leaves_no_visible_version_and_gc_cleans_up,
    flipped_byte_fails_verify_and_resolve,
    if_better_rollback_and_history,
    delete_refuses_aliased_versions_and_never_reuses_numbers,
    names_cannot_escape_the_registry,
    compare_shows_deltas,
    gc_never_collects_a_version_being_published,
    delete_racing_promote_leaves_every_alias_resolving,
    deletes_racing_promotion_and_its_fallback_leave_the_alias_resolving,
    repeated_rollbacks_walk_back_through_history,
    bad_publishes_are_refused_before_claiming_a_number,
    edited_cards_and_damaged_records_are_found_and_repairable,
    seals_promotions_and_rollbacks_check_what_they_point_at,
    a_card_without_better_defers_to_the_current_versions,
);

/// Local disk only: object_store's staging files.
mod staging {
    backend!(local: staging_files_of_killed_writes_are_collected);
}

/// Separate OS processes racing through the binary.
mod processes {
    backend!(local: eight_processes_publish_distinct_versions);
    backend!(s3: eight_processes_publish_distinct_versions);
}
