//! Loading any text as each stage's config file never panics: it is a
//! config or an error (every stage's loader: etl's with its checks, the
//! trainer's with its estimator check, inference's). A config that loads is
//! also written back as YAML and loaded again: it must load, to the same
//! config (the same fingerprint: every setting survived the round trip).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

/// `config` written as a config file: YAML with every `$` escaped as `$$`,
/// since the loader reads `${VAR}` as a variable and `$$` as one `$`.
/// (Found by this target: a value holding `$$` came back as `$`, and one
/// holding `${` was skipped instead of checked.)
fn written(config: &impl serde::Serialize) -> String {
    serde_yaml::to_string(config)
        .expect("a config serializes")
        .replace('$', "$$")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.yaml");
    let env = |name: &str| (name == "CAUCE_FUZZ").then(|| "3".to_string());
    if let Ok(config) = common::config::from_str_with_env::<etl::PipelineConfig>(text, path, &env)
        && config.etl.validate(path).is_ok()
    {
        let yaml = written(&config.etl);
        let again: etl::EtlConfig = common::config::from_str_with_env(&yaml, path, &env)
            .unwrap_or_else(|e| panic!("a written etl config does not reload: {e}\n{yaml}"));
        assert_eq!(again.fingerprint(), config.etl.fingerprint(), "etl round trip:\n{yaml}");
    }
    if let Ok(config) = trainer::TrainConfig::from_yaml(text, path) {
        let yaml = written(&config);
        let again = trainer::TrainConfig::from_yaml(&yaml, path)
            .unwrap_or_else(|e| panic!("a written model config does not reload: {e}\n{yaml}"));
        assert_eq!(again.fingerprint(), config.fingerprint(), "model round trip:\n{yaml}");
    }
    let _ = common::config::from_str_with_env::<inference::PipelineConfig>(text, path, &env);
});
