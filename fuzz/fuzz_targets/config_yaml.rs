//! Loading any text as each stage's config file never panics: it is a
//! config or an error (every stage's loader: etl's with its checks, the
//! trainer's with its estimator check, inference's).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.yaml");
    let env = |name: &str| (name == "CAUCE_FUZZ").then(|| "3".to_string());
    if let Ok(config) = common::config::from_str_with_env::<etl::PipelineConfig>(text, path, &env)
        && config.etl.validate(path).is_ok()
    {
        let _ = config.etl.fingerprint();
    }
    if let Ok(config) = trainer::TrainConfig::from_yaml(text, path) {
        let _ = config.fingerprint();
    }
    let _ = common::config::from_str_with_env::<inference::PipelineConfig>(text, path, &env);
});
