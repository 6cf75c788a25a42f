//! The records stages hand each other, as their consumers read them: any
//! bytes as an ETL manifest read by the trainer, as two shard manifests read
//! by `etl merge` and `inference merge`, and as a model card and a promotion
//! record read by the registry (resolve, history, catalogue, rollback). Each
//! is used or refused with an error; never a panic, and nothing is
//! published from a refused record.
#![no_main]

use std::sync::OnceLock;

use common::storage::Location;
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

fn trainer_config() -> &'static trainer::TrainConfig {
    static CONFIG: OnceLock<trainer::TrainConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let yaml = "model: {name: m, task: classification, target: y, algorithm: decision_tree}\n";
        trainer::TrainConfig::from_yaml(yaml, "fuzz.yaml".as_ref()).expect("a valid config")
    })
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let root = Location::parse("memory://fuzz-records/root").expect("a memory location");
        let put = |path: &'static str, bytes: Vec<u8>| {
            let root = root.clone();
            async move { root.join(path).expect("a path").put(bytes).await.expect("a put") }
        };
        let half = data.len() / 2;

        // The trainer reading an ETL manifest.
        put("processed/_manifest.json", data.to_vec()).await;
        let options = trainer::TrainOptions::new(
            root.join("processed").expect("a path"),
            root.join("models").expect("a path"),
        );
        let _ = trainer::train(trainer_config(), &options).await;

        // The merges reading two shard manifests.
        put("shards/_manifest.shard-0-of-2.json", data[..half].to_vec()).await;
        put("shards/_manifest.shard-1-of-2.json", data[half..].to_vec()).await;
        let etl_options = etl::RunOptions::new(
            root.join("raw").expect("a path"),
            root.join("shards").expect("a path"),
        )
        .with_force(true);
        let _ = etl::merge(&etl::EtlConfig::default(), &etl_options, None).await;
        let inference_config = inference::InferenceConfig::default();
        let _ = inference::merge(&inference_config, &root.join("shards").expect("a path"), None, true).await;

        // The registry reading a card and a promotion record.
        put("models/versioned/v1/_claim.json", br#"{"version": 1, "sealed": true}"#.to_vec()).await;
        put("models/versioned/v1/model_card.json", data[..half].to_vec()).await;
        put("models/latest/0000000001.json", data[half..].to_vec()).await;
        put("models/latest/0000000002.json", data.to_vec()).await;
        let registry = model_registry::Registry::at(root.join("models").expect("a path"));
        let _ = registry.catalogue().await;
        let _ = registry.history("latest").await;
        if let Ok(resolved) = registry.resolve("latest").await {
            // A resolved version passed its checks: its card names it.
            assert_eq!(resolved.card.version.to_string(), "v1");
        }
        let _ = registry.rollback("latest", None).await;

        root.delete_all().await.expect("clean up");
    });
});
