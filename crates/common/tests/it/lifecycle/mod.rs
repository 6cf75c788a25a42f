//! The run-lifecycle conformance suite, run on every backend (local disk,
//! memory, a real S3-compatible server): publish order, abandon on failure,
//! pruning beside foreign folders and links, merges against shard reruns.

mod suite;

conformance!(
    pruning_never_removes_a_run_in_progress,
    publish_refuses_files_that_are_gone,
    a_failed_run_is_abandoned_and_the_previous_manifest_stays,
    pruning_leaves_folders_cauce_did_not_create,
    a_merge_claim_keeps_a_shard_run_from_a_rerun_prune,
    a_run_being_pruned_cannot_be_claimed,
    a_merge_publishing_late_still_names_live_files,
);
