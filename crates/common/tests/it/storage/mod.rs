//! The storage conformance suite, run on every backend: `storage::local::*`,
//! `storage::memory::*` and `storage::s3::*` (a real S3-compatible server).

mod suite;

conformance!(
    put_get_head_round_trip,
    missing_object_is_not_found,
    create_if_absent_twice_fails_the_second_time,
    concurrent_create_if_absent_has_exactly_one_winner,
    list_is_recursive_sorted_and_empty_for_missing_prefix,
    list_children_separates_folders_and_objects,
    delete_is_idempotent,
    select_inputs_by_file_prefix_and_glob,
    json_documents_round_trip,
    parquet_streaming_round_trip_of_20_mb,
    parquet_sink_is_invisible_until_finished_and_abort_leaves_nothing,
    parquet_row_group_selection,
    blocking_reads_plain_and_gzip,
);
