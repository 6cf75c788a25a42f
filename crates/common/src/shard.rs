//! Sharding a stage over N processes, as the engines users already have
//! start them (Slurm arrays, Kubernetes Indexed Jobs, AWS Batch array jobs):
//! which shard this process is ([`Shard`]), where a shard writes its runs
//! and manifest, and the record of the shards a merged manifest stands on
//! ([`Merged`]). Cauce schedules nothing itself.
//!
//! Layout under an output root, for shard `I` of `N` (`N > 1`):
//! `runs/shard-I-of-N/<run id>/…` and `_manifest.shard-I-of-N.json`; the
//! merge of all N publishes `_manifest.json` (its own files under
//! `runs/merged/<run id>/`). Shard `0` of `1` is an unsharded run:
//! `runs/<run id>/` and `_manifest.json`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::Location;

/// Which part of the input this process handles: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

/// Prefix of shard manifest file names.
const MANIFEST_PREFIX: &str = "_manifest.shard-";

/// The largest shard count accepted: far beyond what one output root's
/// listing and one merge handle well (a merge reads every shard's manifest),
/// and small enough that a typo such as `0/18446744073709551615` is an
/// error instead of a merge that waits for shards that will never come.
pub const MAX_SHARDS: usize = 10_000;

/// Folder (under `runs/`) of the merge's own runs.
pub const MERGED_RUNS: &str = "merged";

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_for("--shard", text)
    }

    fn parse_for(key: &str, text: &str) -> Result<Self> {
        let err = || Error::Shard {
            key: key.into(),
            message: format!("'{text}' is not I/N with 0 ≤ I < N (e.g. 0/3)"),
        };
        let (i, n) = text.split_once('/').ok_or_else(err)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        if count > MAX_SHARDS {
            return Err(Error::Shard {
                key: key.into(),
                message: format!("'{text}': at most {MAX_SHARDS} shards"),
            });
        }
        Ok(Self { index, count })
    }

    /// `--shard I/N` when given, else the shard from the process
    /// environment ([`Shard::from_env`]), else unsharded.
    pub fn resolve(flag: Option<&str>) -> Result<Self> {
        match flag {
            Some(spec) => Self::parse(spec),
            None => Ok(Self::from_env(|k| std::env::var(k).ok())?.unwrap_or_default()),
        }
    }

    /// The shard from the environment: `CAUCE_SHARD=I/N`; or the index an
    /// engine sets — Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`), AWS
    /// Batch array job (`AWS_BATCH_JOB_ARRAY_INDEX`), Slurm array
    /// (`SLURM_ARRAY_TASK_ID`) — with the count from `CAUCE_SHARD_COUNT`,
    /// or for Slurm from `SLURM_ARRAY_TASK_COUNT`. `CAUCE_SHARD_COUNT` wins:
    /// a resubmitted single index (`sbatch --array=2`) is an array of one.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        if let Some(spec) = get("CAUCE_SHARD") {
            return Self::parse_for("CAUCE_SHARD", &spec).map(Some);
        }
        let engines = [
            ("JOB_COMPLETION_INDEX", None),
            ("AWS_BATCH_JOB_ARRAY_INDEX", None),
            ("SLURM_ARRAY_TASK_ID", Some("SLURM_ARRAY_TASK_COUNT")),
        ];
        for (index_key, engine_count) in engines {
            let Some(index) = get(index_key) else {
                continue;
            };
            let count = get("CAUCE_SHARD_COUNT").or_else(|| engine_count.and_then(&get));
            let Some(count) = count else {
                return Err(Error::Shard {
                    key: "CAUCE_SHARD_COUNT".into(),
                    message: format!(
                        "{index_key}={index} is set by the job environment; set CAUCE_SHARD_COUNT to the number of shards"
                    ),
                });
            };
            return Self::parse_for(index_key, &format!("{index}/{count}")).map(Some);
        }
        Ok(None)
    }

    /// Whether this is one shard of several.
    pub fn is_sharded(&self) -> bool {
        self.count > 1
    }

    /// The manifest name of this shard (`_manifest.json` when unsharded).
    pub fn manifest_name(&self) -> String {
        if self.count == 1 {
            "_manifest.json".into()
        } else {
            format!("{MANIFEST_PREFIX}{}-of-{}.json", self.index, self.count)
        }
    }

    /// The shard a manifest file name belongs to, if it is a shard's.
    pub fn of_manifest_name(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(MANIFEST_PREFIX)?.strip_suffix(".json")?;
        let (i, n) = rest.split_once("-of-")?;
        let shard = Self {
            index: i.parse().ok()?,
            count: n.parse().ok()?,
        };
        (shard.index < shard.count && shard.count > 1 && shard.count <= MAX_SHARDS).then_some(shard)
    }

    /// Folder (relative to the output root) of this shard's runs.
    pub fn runs_folder(&self) -> String {
        if self.count == 1 {
            "runs".into()
        } else {
            format!("runs/shard-{}-of-{}", self.index, self.count)
        }
    }

    /// Whether a folder directly under `runs/` holds shard or merge runs
    /// rather than being an unsharded run.
    pub fn is_shard_folder(name: &str) -> bool {
        name.starts_with("shard-") || name == MERGED_RUNS
    }

    /// Whether `item` (0-based) of a list belongs to this shard
    /// (`item mod count == index`).
    pub fn owns(&self, item: usize) -> bool {
        item % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shards a merged manifest was made from (absent from an unsharded
/// run's manifest). Pruning keeps every run listed here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    /// Number of shards.
    pub count: usize,
    /// One per shard, by index.
    pub shards: Vec<ShardRun>,
}

/// One shard of a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRun {
    /// The shard's index.
    pub index: usize,
    /// Its run (`runs/shard-I-of-N/<run_id>/`).
    pub run_id: String,
    /// SHA-256 of its shard manifest as merged.
    pub manifest_sha256: String,
}

impl Merged {
    /// The run ids of the shards.
    pub fn run_ids(&self) -> impl Iterator<Item = &str> {
        self.shards.iter().map(|s| s.run_id.as_str())
    }
}

/// The error of a merge of the shards under `output`.
pub fn merge_error(output: &Location, message: impl Into<String>) -> Error {
    Error::Merge {
        output: output.to_string(),
        message: message.into(),
    }
}

/// The manifests of every shard of one run under `output`, by index, each
/// with the SHA-256 of its bytes (what a merged manifest records). `count` picks the shard count when manifests of several counts
/// are there; `stage` names the command in messages. Fails, naming them,
/// when any of the N has not published.
pub async fn published<T: serde::de::DeserializeOwned>(
    output: &Location,
    count: Option<usize>,
    stage: &str,
) -> Result<Vec<(Shard, T, String)>> {
    let (_, objects) = output.list_children().await?;
    let found: Vec<Shard> = objects
        .iter()
        .filter_map(|o| o.location.filename().and_then(Shard::of_manifest_name))
        .collect();
    let mut counts: Vec<usize> = found.iter().map(|s| s.count).collect();
    counts.sort_unstable();
    counts.dedup();
    let count = match (count, counts.as_slice()) {
        (Some(n), _) if n > MAX_SHARDS => {
            return Err(merge_error(
                output,
                format!("--shards {n}: at most {MAX_SHARDS}"),
            ));
        }
        (Some(n), _) if n >= 2 => n,
        (Some(n), _) => {
            return Err(merge_error(
                output,
                format!("--shards {n}: a merge needs 2 or more"),
            ));
        }
        (None, [n]) => *n,
        (None, []) => {
            return Err(merge_error(
                output,
                format!(
                    "no shard manifests (_manifest.shard-I-of-N.json) here; run `{stage} --shard I/N` first"
                ),
            ));
        }
        (None, several) => {
            return Err(merge_error(
                output,
                format!("shard manifests of {several:?} shards are here; pick one with --shards N"),
            ));
        }
    };
    let present: std::collections::BTreeSet<usize> = found
        .iter()
        .filter(|s| s.count == count)
        .map(|s| s.index)
        .collect();
    let missing = count - present.len();
    if missing > 0 {
        // Named up to a few: the count is bounded, the message is one line.
        const NAMED: usize = 10;
        let mut names: Vec<String> = (0..count)
            .filter(|i| !present.contains(i))
            .take(NAMED)
            .map(|index| Shard { index, count }.manifest_name())
            .collect();
        if missing > NAMED {
            names.push(format!("and {} more", missing - NAMED));
        }
        return Err(merge_error(
            output,
            format!(
                "{missing} of {count} shards have not published: {} (run those shards, then merge again)",
                names.join(", ")
            ),
        ));
    }
    let mut manifests = Vec::with_capacity(count);
    for index in 0..count {
        let shard = Shard { index, count };
        let location = output.join(&shard.manifest_name())?;
        let bytes = location.get().await?;
        let manifest = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            location: location.to_string(),
            source,
        })?;
        manifests.push((shard, manifest, crate::checksum::sha256_hex(&bytes)));
    }
    Ok(manifests)
}

/// The items of a whole run from its shards' lists, when shard `k mod N`
/// holds item `k` (the input files, and the parts made from them).
pub fn interleave<T: Clone>(parts: &[&[T]]) -> Vec<T> {
    let count = parts.len();
    let total: usize = parts.iter().map(|p| p.len()).sum();
    (0..total)
        .filter_map(|k| parts[k % count].get(k / count).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_parse_and_come_from_job_environments() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        for bad in [
            "3/3",
            "1",
            "a/b",
            "0/0",
            "-1/2",
            "0/18446744073709551615",
            "0/10001",
        ] {
            let e = Shard::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--shard") && e.contains(bad), "{e}");
        }
        // Regression (issue 27.5): a huge count was accepted.
        let e = Shard::from_env(env(&[
            ("JOB_COMPLETION_INDEX", "0"),
            ("CAUCE_SHARD_COUNT", "18446744073709551615"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("at most 10000 shards"), "{e}");
        assert!(Shard::parse("9999/10000").is_ok());
        assert_eq!(Shard::from_env(env(&[])).unwrap(), None);
        assert_eq!(
            Shard::from_env(env(&[
                ("JOB_COMPLETION_INDEX", "1"),
                ("CAUCE_SHARD_COUNT", "4")
            ]))
            .unwrap(),
            Some(Shard { index: 1, count: 4 })
        );
        let e = Shard::from_env(env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "1")])).unwrap_err();
        assert!(e.to_string().contains("CAUCE_SHARD_COUNT"), "{e}");
        assert_eq!(
            Shard::from_env(env(&[("CAUCE_SHARD", "0/2")])).unwrap(),
            Some(Shard { index: 0, count: 2 })
        );
    }

    #[test]
    fn slurm_arrays_give_the_index_and_count_unless_the_count_is_set() {
        assert_eq!(
            Shard::from_env(env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "4")
            ]))
            .unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        // `sbatch --array=2` resubmits one index: Slurm counts 1 task.
        assert_eq!(
            Shard::from_env(env(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "1"),
                ("CAUCE_SHARD_COUNT", "4")
            ]))
            .unwrap(),
            Some(Shard { index: 2, count: 4 })
        );
        let e = Shard::from_env(env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("SLURM_ARRAY_TASK_ID"), "{e}");
    }

    #[test]
    fn names_round_trip() {
        let shard = Shard { index: 5, count: 7 };
        assert_eq!(shard.manifest_name(), "_manifest.shard-5-of-7.json");
        assert_eq!(Shard::of_manifest_name(&shard.manifest_name()), Some(shard));
        assert_eq!(Shard::of_manifest_name("_manifest.json"), None);
        assert_eq!(Shard::of_manifest_name("_manifest.shard-7-of-7.json"), None);
        assert_eq!(Shard::default().manifest_name(), "_manifest.json");
        assert_eq!(Shard::default().runs_folder(), "runs");
        assert!(Shard::is_shard_folder("shard-1-of-2") && Shard::is_shard_folder("merged"));
        assert!((0..14).filter(|i| shard.owns(*i)).eq([5, 12]));
    }

    #[test]
    fn interleaving_restores_the_order_shards_were_dealt() {
        let all: Vec<usize> = (0..11).collect();
        for n in 1..6 {
            let parts: Vec<Vec<usize>> = (0..n)
                .map(|index| {
                    let shard = Shard { index, count: n };
                    all.iter().copied().filter(|i| shard.owns(*i)).collect()
                })
                .collect();
            let slices: Vec<&[usize]> = parts.iter().map(Vec::as_slice).collect();
            assert_eq!(interleave(&slices), all, "{n} shards");
        }
    }
}
