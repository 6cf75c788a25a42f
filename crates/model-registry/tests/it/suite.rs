//! Registry behaviour, identical on every backend. Each test gets a fresh,
//! empty registry location as a string and runs its own threads/runtimes.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use model_registry::{Action, Better, CardInput, Error, Registry, Version};

/// A metric in version a, in version b, and the delta.
type MetricValues = (Option<f64>, Option<f64>, Option<f64>);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn card(name: &str, metrics: &[(&str, f64)]) -> CardInput {
    CardInput {
        name: name.into(),
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        better: [("accuracy", Better::Higher), ("rmse", Better::Lower)]
            .into_iter()
            .filter(|(m, _)| metrics.iter().any(|(k, _)| k == m))
            .map(|(m, b)| (m.to_string(), b))
            .collect(),
        params: serde_json::json!({"estimator": {"kind": "forest", "n_trees": 100}}),
        metadata: serde_json::Value::Null,
    }
}

fn files(tag: &str) -> Vec<(String, Bytes)> {
    vec![
        (
            "model.bin".into(),
            Bytes::from(format!("weights of {tag}").repeat(100)),
        ),
        (
            "schema.json".into(),
            Bytes::from(format!("{{\"tag\": \"{tag}\"}}")),
        ),
    ]
}

async fn publish(registry: &Registry, tag: &str, metrics: &[(&str, f64)]) -> Version {
    registry
        .publish(card(tag, metrics), files(tag))
        .await
        .unwrap()
        .version
}

pub fn sixteen_concurrent_publishers_get_versions_1_to_16(root: &str) {
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let root = root.to_string();
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let registry = Registry::open(&root).unwrap();
                    let published = registry
                        .publish(card(&format!("p{i}"), &[]), files(&format!("p{i}")))
                        .await
                        .unwrap();
                    (published.version, i)
                })
            })
        })
        .collect();
    let mut got: Vec<(Version, i32)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    got.sort();
    let versions: Vec<u64> = got.iter().map(|(v, _)| v.0).collect();
    assert_eq!(versions, (1..=16).collect::<Vec<_>>());
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let cards = registry.versions().await.unwrap();
        assert_eq!(cards.len(), 16);
        for (version, publisher) in got {
            let card = registry.card(version).await.unwrap();
            assert_eq!(
                card.name,
                format!("p{publisher}"),
                "{version} holds another publisher's card"
            );
            assert!(registry.verify(version).await.unwrap().is_ok());
            let resolved = registry.resolve(&version.to_string()).await.unwrap();
            assert_eq!(
                resolved.files["model.bin"],
                files(&format!("p{publisher}"))[0].1
            );
        }
    });
}

/// Publishes one version per entry of `accuracies`, in order.
fn publish_all(root: &str, tag: &str, accuracies: &[f64]) -> Vec<Version> {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let mut versions = Vec::new();
        for (i, accuracy) in accuracies.iter().enumerate() {
            let metrics = [("accuracy", *accuracy)];
            versions.push(publish(&registry, &format!("{tag}{i}"), &metrics).await);
        }
        versions
    })
}

/// Runs `act(root, version)` for every version at once, each on a thread of
/// its own with its own registry handle and runtime.
fn on_threads<T: Send + 'static>(
    root: &str,
    versions: &[Version],
    act: fn(&str, Version) -> T,
) -> Vec<T> {
    let handles: Vec<_> = versions
        .iter()
        .map(|&version| {
            let root = root.to_string();
            std::thread::spawn(move || act(&root, version))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

pub fn eight_concurrent_promotions_form_one_history(root: &str) {
    let versions = publish_all(root, "m", &[0.5; 8]);
    let records = on_threads(root, &versions, |root, version| {
        runtime().block_on(async {
            Registry::open(root)
                .unwrap()
                .promote(version, "latest", None)
                .await
                .unwrap()
        })
    });
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let history = registry.history("latest").await.unwrap();
        assert_eq!(history.len(), 8);
        assert_eq!(
            history.iter().map(|r| r.sequence).collect::<Vec<_>>(),
            (1..=8).collect::<Vec<_>>()
        );
        let mut promoted: Vec<Version> = history.iter().map(|r| r.version).collect();
        promoted.sort();
        assert_eq!(promoted, versions, "every promotion is recorded once");
        assert_eq!(history[0].previous, None);
        for pair in history.windows(2) {
            assert_eq!(
                pair[1].previous,
                Some(pair[0].version),
                "records form one chain"
            );
        }
        let last = history.last().unwrap();
        assert_eq!(
            registry.current("latest").await.unwrap().as_ref(),
            Some(last)
        );
        assert_eq!(
            registry.resolve("latest").await.unwrap().card.version,
            last.version
        );
        assert!(records.iter().any(|r| r == last));
    });
}

/// Eight quality-gated promotions at once: whatever the interleaving, no
/// candidate is promoted over a better one that landed first, so the history
/// only ever improves and ends at the best version.
pub fn concurrent_gated_promotions_only_ever_improve(root: &str) {
    // Published in an order unrelated to their accuracy.
    let accuracies = [0.83, 0.91, 0.80, 0.95, 0.87, 0.93, 0.81, 0.89];
    let versions = publish_all(root, "g", &accuracies);
    let decisions = on_threads(root, &versions, |root, version| {
        runtime().block_on(async {
            Registry::open(root)
                .unwrap()
                .promote_if_better(version, "latest", "accuracy", None)
                .await
                .unwrap()
        })
    });
    let accuracy_of: BTreeMap<Version, f64> = versions.iter().copied().zip(accuracies).collect();
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let history = registry.history("latest").await.unwrap();
        let promoted = decisions.iter().filter(|d| d.promoted.is_some()).count();
        assert_eq!(
            history.len(),
            promoted,
            "every accepted promotion is recorded"
        );
        assert_eq!(history[0].previous, None);
        for pair in history.windows(2) {
            assert_eq!(pair[1].previous, Some(pair[0].version));
            assert!(
                accuracy_of[&pair[1].version] > accuracy_of[&pair[0].version],
                "{} replaced the better {}",
                pair[1].version,
                pair[0].version
            );
        }
        assert_eq!(
            history.last().unwrap().version,
            versions[3],
            "the best one wins"
        );
        for decision in &decisions {
            if let (None, Some((_, current))) = (&decision.promoted, decision.current) {
                assert!(
                    current >= decision.candidate.1,
                    "refused against a worse version"
                );
            }
        }
    });
}

pub fn killed_publisher_leaves_no_visible_version_and_gc_cleans_up(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v1 = publish(&registry, "ok", &[]).await;
        let mut pending = registry.begin().await.unwrap();
        assert_eq!(pending.version(), Version(2));
        pending
            .add_file("model.bin", Bytes::from_static(b"half"))
            .await
            .unwrap();
        drop(pending); // the publisher dies before writing the card

        assert_eq!(
            registry
                .versions()
                .await
                .unwrap()
                .iter()
                .map(|c| c.version)
                .collect::<Vec<_>>(),
            [v1]
        );
        assert!(matches!(
            registry.resolve("v2").await,
            Err(Error::VersionNotFound { .. })
        ));
        assert!(
            registry
                .gc(Duration::from_secs(3600))
                .await
                .unwrap()
                .versions
                .is_empty(),
            "within the grace period"
        );
        // Its lease was renewed moments ago: it may be a slow publisher, so
        // even a zero grace period leaves it alone until the lease expires.
        assert!(
            registry
                .gc(Duration::ZERO)
                .await
                .unwrap()
                .versions
                .is_empty()
        );
        let lease = registry.root().join("versioned/v2/_lease.json").unwrap();
        assert!(lease.exists().await.unwrap());
        lease.delete().await.unwrap(); // as if it had expired
        let report = registry.gc(Duration::ZERO).await.unwrap();
        assert_eq!((report.versions, report.files), (vec!["v2".to_string()], 1));
        assert!(
            registry
                .gc(Duration::ZERO)
                .await
                .unwrap()
                .versions
                .is_empty()
        );
        assert_eq!(
            publish(&registry, "next", &[]).await,
            Version(3),
            "the abandoned number is not reused"
        );
    });
}

pub fn flipped_byte_fails_verify_and_resolve(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v = publish(&registry, "good", &[]).await;
        let model = registry.root().join("versioned/v1/model.bin").unwrap();
        let mut bytes = model.get().await.unwrap().to_vec();
        bytes[10] ^= 0x01;
        model.put(bytes).await.unwrap();

        let report = registry.verify(v).await.unwrap();
        assert!(!report.is_ok());
        assert_eq!(report.corrupted.len(), 1);
        assert_eq!(report.corrupted[0].0, "model.bin");
        assert!(
            report.corrupted[0].1.starts_with("sha256 mismatch"),
            "{:?}",
            report.corrupted
        );
        assert_eq!(report.ok, ["schema.json"]);
        let err = registry.resolve("v1").await.unwrap_err().to_string();
        assert!(err.starts_with("v1/model.bin: sha256 mismatch"), "{err}");

        registry
            .root()
            .join("versioned/v1/schema.json")
            .unwrap()
            .delete()
            .await
            .unwrap();
        registry
            .root()
            .join("versioned/v1/notes.txt")
            .unwrap()
            .put(&b"x"[..])
            .await
            .unwrap();
        let report = registry.verify(v).await.unwrap();
        assert_eq!(
            (report.missing, report.extra),
            (
                vec!["schema.json".to_string()],
                vec!["notes.txt".to_string()]
            )
        );
    });
}

pub fn if_better_rollback_and_history(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v1 = publish(&registry, "a", &[("accuracy", 0.90), ("rmse", 2.0)]).await;
        let v2 = publish(&registry, "b", &[("accuracy", 0.85), ("rmse", 1.0)]).await;
        let v3 = publish(&registry, "c", &[("accuracy", 0.95), ("rmse", 3.0)]).await;

        let first = registry
            .promote_if_better(v1, "latest", "accuracy", None)
            .await
            .unwrap();
        assert!(first.promoted.is_some() && first.current.is_none());
        let worse = registry
            .promote_if_better(v2, "latest", "accuracy", None)
            .await
            .unwrap();
        assert!(worse.promoted.is_none());
        assert_eq!(
            (worse.candidate, worse.current),
            ((v2, 0.85), Some((v1, 0.90)))
        );
        let better = registry
            .promote_if_better(v3, "latest", "accuracy", None)
            .await
            .unwrap();
        assert_eq!(better.promoted.unwrap().version, v3);
        // rmse: lower is better (as the cards say), so v2 beats v3 on it
        // and v1 does not beat v2.
        for (version, promoted) in [(v3, true), (v2, true), (v1, false)] {
            let by_rmse = registry
                .promote_if_better(version, "staging", "rmse", None)
                .await
                .unwrap();
            assert_eq!(by_rmse.promoted.is_some(), promoted, "{version}");
            assert!(!by_rmse.higher_is_better);
        }
        // A metric whose direction no card records cannot decide.
        let mut unknown = card("d", &[("score", 1.0)]);
        let d1 = registry
            .publish(unknown.clone(), files("d1"))
            .await
            .unwrap()
            .version;
        unknown.metrics.insert("score".into(), 2.0);
        let d2 = registry
            .publish(unknown, files("d2"))
            .await
            .unwrap()
            .version;
        registry
            .promote_if_better(d1, "scored", "score", None)
            .await
            .unwrap();
        let err = registry
            .promote_if_better(d2, "scored", "score", None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "{d2}'s card does not say whether a higher or lower 'score' is better"
            )),
            "{err}"
        );
        let missing = registry
            .promote_if_better(v2, "latest", "f1", None)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(missing, "v2 has no metric 'f1' (it has: accuracy, rmse)");

        let back = registry
            .rollback("latest", Some("v3 misbehaves".into()))
            .await
            .unwrap();
        assert_eq!(
            (back.version, back.previous, back.action),
            (v1, Some(v3), Action::Rollback)
        );
        assert_eq!(registry.resolve("latest").await.unwrap().card.version, v1);

        let history = registry.history("latest").await.unwrap();
        let summary: Vec<(Action, Version)> =
            history.iter().map(|r| (r.action, r.version)).collect();
        assert_eq!(
            summary,
            [
                (Action::Promote, v1),
                (Action::Promote, v3),
                (Action::Rollback, v1)
            ]
        );
        assert_eq!(history[2].reason.as_deref(), Some("v3 misbehaves"));
        let mut aliases = registry.aliases().await.unwrap();
        aliases.sort();
        assert_eq!(aliases, ["latest", "scored", "staging"]);
        assert!(matches!(
            registry.rollback("nothing", None).await,
            Err(Error::AliasNotSet { .. })
        ));
    });
}

pub fn delete_refuses_aliased_versions_and_never_reuses_numbers(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v1 = publish(&registry, "a", &[]).await;
        let v2 = publish(&registry, "b", &[]).await;
        registry.promote(v2, "latest", None).await.unwrap();
        let err = registry.delete(v2).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "v2 is the current version of alias(es) latest; promote another version first"
        );
        registry.delete(v1).await.unwrap();
        assert_eq!(registry.versions().await.unwrap().len(), 1);
        assert!(matches!(
            registry.card(v1).await,
            Err(Error::VersionNotFound { .. })
        ));
        assert_eq!(publish(&registry, "c", &[]).await, Version(3));
        assert!(matches!(
            registry.promote(v1, "latest", None).await,
            Err(Error::VersionNotFound { .. })
        ));
    });
}

pub fn names_cannot_escape_the_registry(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v = publish(&registry, "a", &[]).await;
        for alias in ["../versioned", "Latest", "a/b", "versioned"] {
            let err = registry.promote(v, alias, None).await.unwrap_err();
            assert!(
                matches!(err, Error::InvalidName { kind: "alias", .. }),
                "{alias}: {err}"
            );
        }
        for reference in ["v01", "../v1", "v1/../../x"] {
            assert!(registry.resolve(reference).await.is_err(), "{reference}");
        }
        let mut pending = registry.begin().await.unwrap();
        for name in ["../escape", "_claim.json", "model_card.json", "a/b"] {
            assert!(matches!(
                pending.add_file(name, Bytes::new()).await,
                Err(Error::InvalidName {
                    kind: "file name",
                    ..
                })
            ));
        }
    });
}

pub fn compare_shows_deltas(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let a = publish(&registry, "a", &[("accuracy", 0.5)]).await;
        let mut second = card("b", &[("accuracy", 0.75), ("f1", 0.7)]);
        second.params = serde_json::json!({"estimator": {"kind": "forest", "n_trees": 300}});
        let b = registry.publish(second, files("b")).await.unwrap().version;
        let comparison = model_registry::compare(
            &registry.card(a).await.unwrap(),
            &registry.card(b).await.unwrap(),
        );
        let metrics: BTreeMap<&str, MetricValues> = comparison
            .metrics
            .iter()
            .map(|m| (m.metric.as_str(), (m.a, m.b, m.delta)))
            .collect();
        assert_eq!(metrics["accuracy"], (Some(0.5), Some(0.75), Some(0.25)));
        assert_eq!(metrics["f1"], (None, Some(0.7), None));
        let changed: Vec<&str> = comparison
            .params
            .iter()
            .filter(|p| p.changed)
            .map(|p| p.param.as_str())
            .collect();
        assert_eq!(changed, ["estimator.n_trees"]);
    });
}

pub fn eight_processes_publish_distinct_versions(root: &str) {
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("model.bin");
    std::fs::write(&artifact, b"weights").unwrap();
    let card_path = dir.path().join("card.json");
    std::fs::write(
        &card_path,
        r#"{"name": "proc", "metrics": {"accuracy": 0.9}}"#,
    )
    .unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_model-registry"))
                .args(["--registry", root, "publish", "--file"])
                .arg(&artifact)
                .arg("--card")
                .arg(&card_path)
                .env("CAUCE_LOG_DIR", dir.path().join("logs"))
                .current_dir(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut versions: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap().trim().to_string()
        })
        .collect();
    versions.sort_by_key(|line| {
        line.trim_start_matches("published v")
            .parse::<u64>()
            .unwrap()
    });
    assert_eq!(
        versions,
        (1..=8)
            .map(|i| format!("published v{i}"))
            .collect::<Vec<_>>()
    );
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        for card in registry.versions().await.unwrap() {
            assert!(registry.verify(card.version).await.unwrap().is_ok());
        }
    });
}

/// Regression (issue 12.3): `gc --grace-period 0s` looping during publishes
/// deleted the files of versions still being uploaded, and their cards were
/// then written over missing files (24 of 24 versions). A live publisher's
/// lease keeps gc away; a publish whose files did vanish writes no card.
pub fn gc_never_collects_a_version_being_published(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let mut pending = registry.begin().await.unwrap();
        pending.add_file("model.bin", Bytes::from_static(b"weights")).await.unwrap();
        assert!(registry.gc(Duration::ZERO).await.unwrap().versions.is_empty());
        pending.add_file("schema.json", Bytes::from_static(b"{}")).await.unwrap();
        let published = pending.commit(card("slow", &[])).await.unwrap();
        assert!(registry.verify(published.version).await.unwrap().is_ok());
        assert!(
            !registry.root().join("versioned/v1/_lease.json").unwrap().exists().await.unwrap(),
            "a published version holds no lease"
        );

        let mut pending = registry.begin().await.unwrap();
        pending.add_file("model.bin", Bytes::from_static(b"weights")).await.unwrap();
        registry.root().join("versioned/v2/model.bin").unwrap().delete().await.unwrap();
        let err = pending.commit(card("vanished", &[])).await.unwrap_err();
        assert!(matches!(err, Error::Vanished { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "not publishing v2: model.bin is gone after it was uploaded (removed by `gc` or another process?)"
        );
        assert!(matches!(registry.card(Version(2)).await, Err(Error::VersionNotFound { .. })));
    });
}

/// Regression (issue 12.2): `delete vN` racing `promote vN` left the alias
/// on a deleted version (7/20 local, 14/20 S3). After any interleaving the
/// alias resolves, and at most one of the two succeeds.
pub fn delete_racing_promote_leaves_every_alias_resolving(root: &str) {
    for round in 0..20 {
        let root = format!("{root}/round-{round}");
        let base = runtime().block_on(async {
            let registry = Registry::open(&root).unwrap();
            let base = publish(&registry, "base", &[]).await;
            registry.promote(base, "latest", None).await.unwrap();
            publish(&registry, "candidate", &[]).await;
            base
        });
        let candidate = Version(base.0 + 1);
        // Several promotions of the same version: a revert must not land on
        // the deleted version another promotion put below it (seen on S3 by
        // make stress).
        let promotes: Vec<_> = (0..3)
            .map(|_| {
                let root = root.clone();
                std::thread::spawn(move || {
                    runtime().block_on(async {
                        Registry::open(&root)
                            .unwrap()
                            .promote(candidate, "latest", None)
                            .await
                    })
                })
            })
            .collect();
        let delete = {
            let root = root.clone();
            std::thread::spawn(move || {
                runtime().block_on(async { Registry::open(&root).unwrap().delete(candidate).await })
            })
        };
        let promoted: Vec<_> = promotes.into_iter().map(|p| p.join().unwrap()).collect();
        let deleted = delete.join().unwrap();
        let promoted = promoted.into_iter().find(|p| p.is_ok()).unwrap_or_else(|| {
            Err(Error::NoPrevious {
                alias: "none promoted".into(),
            })
        });
        assert!(
            !(promoted.is_ok() && deleted.is_ok()),
            "round {round}: both the promotion and the delete succeeded"
        );
        runtime().block_on(async {
            let registry = Registry::open(&root).unwrap();
            let resolved = registry.resolve("latest").await.unwrap_or_else(|e| {
                panic!("round {round}: latest does not resolve ({promoted:?}, {deleted:?}): {e}")
            });
            let expected = if promoted.is_ok() { candidate } else { base };
            assert_eq!(
                resolved.card.version, expected,
                "round {round}: {promoted:?} {deleted:?}"
            );
        });
    }
}

/// Regression (found by `make stress` in CI): a promotion that lost to a
/// delete moved the alias back to the version below, while a second delete
/// was removing that one, and left the alias on it. The record that moves
/// an alias back is settled like any promotion.
pub fn deletes_racing_promotion_and_its_fallback_leave_the_alias_resolving(root: &str) {
    for round in 0..12 {
        let root = format!("{root}/round-{round}");
        let below = runtime().block_on(async {
            let registry = Registry::open(&root).unwrap();
            let base = publish(&registry, "base", &[]).await;
            registry.promote(base, "latest", None).await.unwrap();
            let below = publish(&registry, "below", &[]).await;
            registry.promote(below, "latest", None).await.unwrap();
            publish(&registry, "candidate", &[]).await;
            below
        });
        let candidate = Version(below.0 + 1);
        let thread = |job: u8| {
            let root = root.clone();
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let registry = Registry::open(&root).unwrap();
                    match job {
                        0 => registry
                            .promote(candidate, "latest", None)
                            .await
                            .map(|_| ()),
                        1 => registry.delete(candidate).await,
                        _ => {
                            // Keep trying: it succeeds once latest is off `below`.
                            for _ in 0..40 {
                                if registry.delete(below).await.is_ok() {
                                    return Ok(());
                                }
                                tokio::time::sleep(Duration::from_millis(5)).await;
                            }
                            Ok(())
                        }
                    }
                })
            })
        };
        let jobs: Vec<_> = [0, 0, 1, 2].into_iter().map(thread).collect();
        for job in jobs {
            let _ = job.join().unwrap();
        }
        runtime().block_on(async {
            let registry = Registry::open(&root).unwrap();
            let resolved = registry.resolve("latest").await;
            assert!(
                resolved.is_ok(),
                "round {round}: latest does not resolve: {resolved:?}"
            );
        });
    }
}

/// Regression (issue 12.6): a second rollback put back the version the first
/// one rolled back from (v3 → v2 → v3). Rollbacks walk back down the
/// promotions, skipping versions deleted since.
pub fn repeated_rollbacks_walk_back_through_history(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let mut versions = Vec::new();
        for tag in ["a", "b", "c", "d"] {
            let v = publish(&registry, tag, &[]).await;
            registry.promote(v, "latest", None).await.unwrap();
            versions.push(v);
        }
        let [v1, v2, v3, v4] = versions[..] else {
            unreachable!()
        };
        let back = registry.rollback("latest", None).await.unwrap();
        assert_eq!((back.version, back.previous), (v3, Some(v4)));
        let back = registry.rollback("latest", None).await.unwrap();
        assert_eq!(
            (back.version, back.previous),
            (v2, Some(v3)),
            "not back to v4"
        );
        registry.delete(v3).await.unwrap();
        registry.delete(v4).await.unwrap();
        let back = registry.rollback("latest", None).await.unwrap();
        assert_eq!(back.version, v1);
        assert!(matches!(
            registry.rollback("latest", None).await,
            Err(Error::NoPrevious { .. })
        ));
        assert_eq!(registry.resolve("latest").await.unwrap().card.version, v1);
    });
}

/// Regression (issue 12.11): staging files of killed uploads (`model.bin#1`
/// on local disk, 340 MB after 20 killed publishes) were never removed.
pub fn staging_files_of_killed_writes_are_collected(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        publish(&registry, "a", &[]).await;
        let dir = std::path::Path::new(registry.root().join("versioned/v1").unwrap().as_str())
            .to_path_buf();
        std::fs::write(dir.join("model.bin#1"), b"half an upload").unwrap();
        let report = registry.gc(Duration::from_secs(3600)).await.unwrap();
        assert_eq!(report.staging, 0, "younger than the grace period");
        // Younger than the lease timeout, it may be a live publisher's
        // upload: kept whatever the grace period.
        let report = registry.gc(Duration::ZERO).await.unwrap();
        assert_eq!(report.staging, 0, "younger than the lease timeout");
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(dir.join("model.bin#1"))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        // Regression (issue 27.4): files of the user's that look like
        // staging files, outside the folders the registry writes, stay.
        let root_dir = std::path::Path::new(registry.root().as_str()).to_path_buf();
        std::fs::create_dir_all(root_dir.join("notes")).unwrap();
        for user in ["notes/issue#42", "issue#7", "latest#3"] {
            std::fs::write(root_dir.join(user), b"mine").unwrap();
            std::fs::File::options()
                .write(true)
                .open(root_dir.join(user))
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        let report = registry.gc(Duration::ZERO).await.unwrap();
        assert_eq!(report.staging, 1);
        assert!(!dir.join("model.bin#1").exists());
        assert!(registry.verify(Version(1)).await.unwrap().is_ok());
        for user in ["notes/issue#42", "issue#7", "latest#3"] {
            assert!(root_dir.join(user).exists(), "{user} stays");
        }
    });
}

/// Regressions (issue 27.7, 27.8, 27.9): a card edited and its seal deleted
/// passed `verify` and gated promotions; a corrupted version was promoted;
/// a rollback after promoting the same version twice went nowhere.
pub fn seals_promotions_and_rollbacks_check_what_they_point_at(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v1 = publish(&registry, "a", &[("accuracy", 0.90)]).await;
        let v2 = publish(&registry, "b", &[("accuracy", 0.80)]).await;
        let v3 = publish(&registry, "c", &[("accuracy", 0.70)]).await;
        registry.promote(v1, "latest", None).await.unwrap();

        // 27.7: edit v2's card to look better, and delete its seal.
        let dir = registry.root().join("versioned/v2").unwrap();
        let card = dir.join("model_card.json").unwrap();
        let text = String::from_utf8(card.get().await.unwrap().to_vec()).unwrap();
        card.put(text.replace("0.8", "0.99")).await.unwrap();
        dir.join("_sealed.json").unwrap().delete().await.unwrap();
        for err in [
            registry.verify(v2).await.unwrap_err(),
            registry
                .promote_if_better(v2, "latest", "accuracy", None)
                .await
                .unwrap_err(),
            registry.resolve("v2").await.unwrap_err(),
        ] {
            assert!(matches!(err, Error::Unsealed { .. }), "{err}");
            assert!(
                err.to_string().contains("v2 has a model card but no seal"),
                "{err}"
            );
        }
        // Unsealed is unfinished (as after a publisher killed between card
        // and seal): not listed, and collected by gc as unfinished.
        let catalogue = registry.catalogue().await.unwrap();
        let listed: Vec<Version> = catalogue.iter().map(|(v, _)| *v).collect();
        assert_eq!(listed, [v1, v3]);
        let report = registry.gc(Duration::ZERO).await.unwrap();
        assert_eq!(report.versions, ["v2"]);
        assert!(!card.exists().await.unwrap());
        assert!(
            registry.verify(v1).await.unwrap().is_ok(),
            "the served version stays"
        );

        // 27.8: a corrupted model file is not promoted (nor rolled back to).
        let model = registry.root().join("versioned/v3/model.bin").unwrap();
        let mut bytes = model.get().await.unwrap().to_vec();
        bytes[0] ^= 1;
        model.put(bytes.clone()).await.unwrap();
        let err = registry.promote(v3, "latest", None).await.unwrap_err();
        assert!(
            err.to_string().starts_with("v3/model.bin: sha256 mismatch"),
            "{err}"
        );
        assert_eq!(
            registry.current("latest").await.unwrap().unwrap().version,
            v1
        );
        bytes[0] ^= 1;
        model.put(bytes).await.unwrap();

        // 27.9: promote v3 twice, roll back: back to v1, not v3 → v3.
        registry.promote(v3, "latest", None).await.unwrap();
        registry.promote(v3, "latest", None).await.unwrap();
        let back = registry.rollback("latest", None).await.unwrap();
        assert_eq!((back.previous, back.version), (Some(v3), v1));
        let staging = registry.promote(v3, "staging", None).await.unwrap();
        assert_eq!(staging.version, v3);
        registry.promote(v3, "staging", None).await.unwrap();
        let err = registry.rollback("staging", None).await.unwrap_err();
        assert!(matches!(err, Error::NoPrevious { .. }), "{err}");
    });
}

/// Regressions (issue 12.9, 12.12, 12.13): two files with one name, a bad
/// file name refused only after a number was claimed, and a planted
/// `v18446744073709551615` making the next publish wrap to v0.
pub fn bad_publishes_are_refused_before_claiming_a_number(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let twice = vec![
            ("model.bin".to_string(), Bytes::from_static(b"a")),
            ("model.bin".to_string(), Bytes::from_static(b"b")),
        ];
        let err = registry.publish(card("x", &[]), twice).await.unwrap_err();
        assert!(
            err.to_string().contains("'model.bin': is given twice"),
            "{err}"
        );
        for name in ["_x", ".hidden", "model_card.json"] {
            let files = vec![(name.to_string(), Bytes::from_static(b"a"))];
            let err = registry.publish(card("x", &[]), files).await.unwrap_err();
            assert!(matches!(err, Error::InvalidName { .. }), "{name}: {err}");
        }
        assert_eq!(
            publish(&registry, "ok", &[]).await,
            Version(1),
            "no number was used up"
        );

        let planted = registry
            .root()
            .join("versioned/v18446744073709551615/_claim.json")
            .unwrap();
        planted.put(&b"{}"[..]).await.unwrap();
        let err = registry
            .publish(card("x", &[]), files("x"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("v18446744073709551615") && err.contains("largest version number"),
            "{err}"
        );
    });
}

/// Regressions (issue 12.8, 12.10): an edited card went unnoticed by
/// `verify` and `--if-better`; one bad card broke listing for the whole
/// registry; one damaged promotion record broke the alias for good.
pub fn edited_cards_and_damaged_records_are_found_and_repairable(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v1 = publish(&registry, "a", &[("accuracy", 0.90)]).await;
        let v2 = publish(&registry, "b", &[("accuracy", 0.80)]).await;
        registry.promote(v1, "latest", None).await.unwrap();
        let card = registry
            .root()
            .join("versioned/v1/model_card.json")
            .unwrap();
        let text = String::from_utf8(card.get().await.unwrap().to_vec()).unwrap();
        card.put(text.replace("0.9", "0.5")).await.unwrap();
        for err in [
            registry.verify(v1).await.unwrap_err(),
            registry.resolve("latest").await.unwrap_err(),
            registry
                .promote_if_better(v2, "latest", "accuracy", None)
                .await
                .unwrap_err(),
        ] {
            assert!(err.to_string().contains("edited after publishing"), "{err}");
        }
        let catalogue = registry.catalogue().await.unwrap();
        assert_eq!(
            catalogue.len(),
            2,
            "the edited version is listed, with its problem"
        );
        assert!(catalogue[0].1.is_err() && catalogue[1].1.is_ok());
        assert_eq!(registry.versions().await.unwrap().len(), 1);

        // A damaged newest promotion record: the alias fails to resolve
        // with a clear error, and promoting again repairs it.
        registry.promote(v2, "latest", None).await.unwrap();
        let record = registry.root().join("latest/0000000002.json").unwrap();
        record.put(&b"{ not json"[..]).await.unwrap();
        let err = registry.resolve("latest").await.unwrap_err().to_string();
        assert!(
            err.contains("latest/0000000002.json") && err.contains("invalid promotion record"),
            "{err}"
        );
        let repaired = registry
            .promote(v2, "latest", Some("repair".into()))
            .await
            .unwrap();
        assert_eq!(repaired.sequence, 3);
        assert_eq!(registry.resolve("latest").await.unwrap().card.version, v2);
    });
}

/// Issue 28.11 (a README claim without a test): a card without `better`
/// for the gate's metric defers to the current version's direction.
pub fn a_card_without_better_defers_to_the_current_versions(root: &str) {
    runtime().block_on(async {
        let registry = Registry::open(root).unwrap();
        let v1 = publish(&registry, "a", &[("rmse", 2.0)]).await;
        registry.promote(v1, "latest", None).await.unwrap();
        let plain = |tag: &str, rmse: f64| {
            let mut card = card(tag, &[("rmse", rmse)]);
            card.better.clear();
            card
        };
        let worse = registry
            .publish(plain("b", 3.0), files("b"))
            .await
            .unwrap()
            .version;
        let decision = registry
            .promote_if_better(worse, "latest", "rmse", None)
            .await
            .unwrap();
        assert!(
            !decision.higher_is_better,
            "v1 says rmse is lower-is-better"
        );
        assert!(decision.promoted.is_none(), "3.0 does not beat 2.0");
        let better = registry
            .publish(plain("c", 1.0), files("c"))
            .await
            .unwrap()
            .version;
        let decision = registry
            .promote_if_better(better, "latest", "rmse", None)
            .await
            .unwrap();
        assert_eq!(decision.promoted.map(|p| p.version), Some(better));
    });
}
