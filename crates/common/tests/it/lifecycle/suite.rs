//! The lifecycle suite's tests, each an `async fn` taking an empty root.

use common::Error;
use common::checksum::sha256_hex;
use common::lifecycle::{LEASE_FILE, MARKER_FILE, Publish, RunKind, Runs, TOMBSTONE_FILE};
use common::shard::Shard;
use common::storage::{Location, Scheme, StoredFile};

/// A manifest as the stages write one: its run and its files.
#[derive(Debug, serde::Serialize)]
struct TestManifest {
    run_id: String,
    files: Vec<StoredFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shards: Option<common::shard::Merged>,
}

impl Publish for TestManifest {
    fn published_files(&self) -> Vec<&StoredFile> {
        self.files.iter().collect()
    }
}

/// Writes a part into `run` and records it as a manifest lists it.
async fn part(output: &Location, run: &Location, bytes: &[u8]) -> StoredFile {
    let location = run.join("train/part-00000.parquet").unwrap();
    location.put(bytes.to_vec()).await.unwrap();
    StoredFile {
        path: output.relative(location.path()).unwrap(),
        rows: 1,
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
    }
}

/// Runs one whole run of `kind` (a part, then the manifest) and returns its id.
async fn one_run(output: &Location, kind: RunKind, keep: usize) -> String {
    let runs = Runs::new(output, kind, keep).unwrap();
    let run = runs.start().await.unwrap();
    let (id, root) = (run.id().to_string(), run.root().clone());
    run.complete(async {
        let file = part(output, &root, id.as_bytes()).await;
        Ok::<_, Error>(TestManifest {
            run_id: id.clone(),
            files: vec![file],
            shards: None,
        })
    })
    .await
    .unwrap();
    id
}

async fn exists(output: &Location, path: &str) -> bool {
    output.join(path).unwrap().exists().await.unwrap()
}

/// Regression (issue 12.1): a run that published pruned "old" run folders by
/// name, including a run still being written, whose manifest then listed
/// deleted files.
pub async fn pruning_never_removes_a_run_in_progress(root: &Location) {
    let runs = Runs::new(root, RunKind::Shard(Shard::default()), 1).unwrap();
    let slow = runs.start().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let fast_id = one_run(root, RunKind::Shard(Shard::default()), 1).await;
    assert!(slow.id() < fast_id.as_str(), "ids sort by start time");
    let slow_file = part(root, slow.root(), b"slow").await;
    assert!(exists(root, &slow_file.path).await, "the slow run survives");
    let slow_id = slow.id().to_string();
    slow.complete(async {
        Ok::<_, Error>(TestManifest {
            run_id: slow_id.clone(),
            files: vec![slow_file.clone()],
            shards: None,
        })
    })
    .await
    .unwrap();
    let current: serde_json::Value = runs.manifest().unwrap().read_json().await.unwrap();
    assert_eq!(
        current["run_id"],
        slow_id.as_str(),
        "the last to publish wins"
    );
    let (folders, _) = runs.root().list_children().await.unwrap();
    assert_eq!(
        folders,
        std::slice::from_ref(&slow_id),
        "the superseded run is pruned"
    );
    let run = runs.root().join(&slow_id).unwrap();
    assert!(
        !run.join(LEASE_FILE).unwrap().exists().await.unwrap(),
        "no lease left"
    );
    assert!(
        run.join(MARKER_FILE).unwrap().exists().await.unwrap(),
        "the marker stays"
    );
}

/// A manifest is never published over files that are gone or changed; the
/// previous one stays, and the failed run's folder is removed.
pub async fn publish_refuses_files_that_are_gone(root: &Location) {
    let runs = Runs::new(root, RunKind::Shard(Shard::default()), 3).unwrap();
    let manifest = runs.manifest().unwrap();
    manifest
        .put(&b"{\"run_id\": \"earlier\"}"[..])
        .await
        .unwrap();
    let run = runs.start().await.unwrap();
    let (id, run_root) = (run.id().to_string(), run.root().clone());
    let file = part(root, &run_root, b"rows").await;
    root.join(&file.path).unwrap().delete().await.unwrap();
    let err = run
        .complete(async {
            Ok::<_, Error>(TestManifest {
                run_id: id,
                files: vec![file],
                shards: None,
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unpublishable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("part-00000.parquet is gone"),
        "{err}"
    );
    assert_eq!(
        manifest.get().await.unwrap().as_ref(),
        b"{\"run_id\": \"earlier\"}"
    );
    assert!(
        run_root.list().await.unwrap().is_empty(),
        "the failed run is cleaned up"
    );

    let run = runs.start().await.unwrap();
    let (id, run_root) = (run.id().to_string(), run.root().clone());
    let mut file = part(root, &run_root, b"rows").await;
    file.bytes += 1;
    let err = run
        .complete(async {
            Ok::<_, Error>(TestManifest {
                run_id: id,
                files: vec![file],
                shards: None,
            })
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("has 4 bytes, not the 5 written"),
        "{err}"
    );
}

/// Work that fails leaves nothing: the run folder goes, the manifest stays.
pub async fn a_failed_run_is_abandoned_and_the_previous_manifest_stays(root: &Location) {
    let first = one_run(root, RunKind::Shard(Shard::default()), 3).await;
    let runs = Runs::new(root, RunKind::Shard(Shard::default()), 3).unwrap();
    let run = runs.start().await.unwrap();
    let run_root = run.root().clone();
    let err = run
        .complete(async {
            part(root, &run_root, b"half").await;
            Err::<TestManifest, _>(Error::Shard {
                key: "test".into(),
                message: "the work failed".into(),
            })
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the work failed"), "{err}");
    assert!(
        run_root.list().await.unwrap().is_empty(),
        "nothing of the failed run"
    );
    let current: serde_json::Value = runs.manifest().unwrap().read_json().await.unwrap();
    assert_eq!(current["run_id"], first.as_str());
}

/// Regression (issue 27.1): folders under `runs/` that Cauce did not create
/// (a user's folder, a symbolic link to another folder) were pruned as old
/// runs, and the link was followed: the files it pointed to were deleted.
pub async fn pruning_leaves_folders_cauce_did_not_create(root: &Location) {
    let foreign = root.join("runs/2025-11-03_baseline/notes.csv").unwrap();
    foreign.put(&b"a,b\n"[..]).await.unwrap();
    let older = root
        .join("runs/00000000T000000000Z-aaaaaa/_lease.json#7")
        .unwrap();
    older.put(&b"{"[..]).await.unwrap();
    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("precious.txt"), b"keep").unwrap();
    if root.scheme() == Scheme::Local {
        let runs = std::path::PathBuf::from(format!("/{}/runs", root.path()));
        std::os::unix::fs::symlink(victim.path(), runs.join("0000-link")).unwrap();
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(one_run(root, RunKind::Shard(Shard::default()), 1).await);
    }
    assert!(foreign.exists().await.unwrap(), "the user's folder stays");
    assert!(
        older.exists().await.unwrap(),
        "a folder with no lease or marker stays"
    );
    assert!(
        victim.path().join("precious.txt").exists(),
        "the link is not followed"
    );
    let (folders, _) = root.join("runs").unwrap().list_children().await.unwrap();
    assert!(folders.contains(ids.last().unwrap()), "{folders:?}");
    for old in &ids[..2] {
        assert!(!folders.contains(old), "old runs of ours go: {folders:?}");
    }
    // A user file beside the manifest that looks like a staging file stays.
    let notes = root.join("issue#42").unwrap();
    notes.put(&b"mine"[..]).await.unwrap();
    one_run(root, RunKind::Shard(Shard::default()), 1).await;
    assert!(notes.exists().await.unwrap());
}

/// The shard manifests under `root`, their runs claimed (as a merge does).
async fn pin(
    root: &Location,
) -> common::Result<(
    Vec<(Shard, serde_json::Value, String)>,
    common::shard::Merged,
    common::lifecycle::Claims,
)> {
    common::lifecycle::pin_published::<serde_json::Value>(root, None, "test", |m| {
        m["run_id"].as_str().unwrap_or_default()
    })
    .await
}

/// Writes a shard run of shard `index` of 2 and publishes its manifest.
async fn shard_run(output: &Location, index: usize, keep: usize) -> String {
    one_run(output, RunKind::Shard(Shard { index, count: 2 }), keep).await
}

/// Regression (issue 27.2): a shard rerun pruned the run a merge in
/// progress was about to name. With the merge's claims taken, the rerun's
/// prune keeps it (with `keep_runs: 1`).
pub async fn a_merge_claim_keeps_a_shard_run_from_a_rerun_prune(root: &Location) {
    let a0 = shard_run(root, 0, 1).await;
    shard_run(root, 1, 1).await;
    let (shards, merged, claims) = pin(root).await.unwrap();
    assert_eq!(shards.len(), 2);
    assert_eq!(merged.shards[0].run_id, a0);
    // Shard 0 is rerun twice while the merge holds its claims.
    shard_run(root, 0, 1).await;
    shard_run(root, 0, 1).await;
    let kept = root
        .join(&format!("runs/shard-0-of-2/{a0}/{MARKER_FILE}"))
        .unwrap();
    assert!(kept.exists().await.unwrap(), "the claimed run stays");
    // The merge publishes, naming it; then a rerun still keeps it.
    let runs = Runs::new(root, RunKind::Merge, 1).unwrap();
    let run = runs.start_merge(claims).await.unwrap();
    let id = run.id().to_string();
    let files = vec![root_file(root, &a0).await];
    run.complete(async {
        Ok::<_, Error>(TestManifest {
            run_id: id,
            files,
            shards: Some(merged),
        })
    })
    .await
    .unwrap();
    shard_run(root, 0, 1).await;
    assert!(
        kept.exists().await.unwrap(),
        "the published merge's run stays"
    );
}

/// The part of shard 0's run `id`, as a merged manifest lists it.
async fn root_file(root: &Location, id: &str) -> StoredFile {
    let path = format!("runs/shard-0-of-2/{id}/train/part-00000.parquet");
    let bytes = root.join(&path).unwrap().get().await.unwrap();
    StoredFile {
        path,
        rows: 1,
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    }
}

/// The other order: a pruner has put its tombstone down first, so the merge
/// does not use the run (it reads the shard manifests again, and fails
/// when the run stays condemned).
pub async fn a_run_being_pruned_cannot_be_claimed(root: &Location) {
    let a0 = shard_run(root, 0, 3).await;
    shard_run(root, 1, 3).await;
    let tombstone = root
        .join(&format!("runs/shard-0-of-2/{a0}/{TOMBSTONE_FILE}"))
        .unwrap();
    tombstone.put(&b"{}"[..]).await.unwrap();
    let err = pin(root).await.unwrap_err().to_string();
    assert!(
        err.contains("is being removed") && err.contains(&a0),
        "{err}"
    );
    let claims = root
        .join(&format!("runs/shard-0-of-2/{a0}/_claims"))
        .unwrap();
    assert!(claims.list().await.unwrap().is_empty(), "claims released");
    // Once the rerun has published, the merge reads its run instead.
    tombstone.delete().await.unwrap();
    let b0 = shard_run(root, 0, 3).await;
    let (_, merged, claims) = pin(root).await.unwrap();
    assert_eq!(merged.shards[0].run_id, b0);
    claims.release().await;
}

/// The fault the stress test injects: a publish delayed between its check
/// and its write, while the shard is rerun. The merged manifest names only
/// files that exist.
pub async fn a_merge_publishing_late_still_names_live_files(root: &Location) {
    shard_run(root, 0, 1).await;
    shard_run(root, 1, 1).await;
    let (_, merged, claims) = pin(root).await.unwrap();
    let a0 = merged.shards[0].run_id.clone();
    let files = vec![root_file(root, &a0).await];
    let runs = Runs::new(root, RunKind::Merge, 1).unwrap();
    let run = runs.start_merge(claims).await.unwrap();
    let id = run.id().to_string();
    let reruns = async {
        for _ in 0..3 {
            shard_run(root, 0, 1).await;
        }
    };
    let merge = run.complete(async {
        // The window: files checked by the merge's reading, reruns between.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        Ok::<_, Error>(TestManifest {
            run_id: id,
            files,
            shards: Some(merged),
        })
    });
    let (merged, ()) = tokio::join!(merge, reruns);
    let merged = merged.unwrap();
    for file in &merged.files {
        assert!(exists(root, &file.path).await, "{} is there", file.path);
    }
}
