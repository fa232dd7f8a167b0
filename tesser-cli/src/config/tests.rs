//! The configuration's layering and checks.

use super::*;

/// A temporary `.toml` file holding `text`.
pub(super) fn write(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp");
    std::fs::write(file.path(), text).expect("write");
    file
}

#[test]
fn layers_override_in_order() {
    let file = write("[live]\ntimer_ms = 250\nplugins_dir = \"/from/file\"\n");
    let env = vec![
        (
            "TESSER_LIVE__PLUGINS_DIR".to_owned(),
            "/from/env".to_owned(),
        ),
        ("TESSER_RISK__PRICE_BAND_BPS".to_owned(), "100".to_owned()),
    ];
    let config = load(Some(file.path()), env).expect("config");
    assert_eq!(config.live.timer_ms, 250);
    assert_eq!(config.live.plugins_dir, PathBuf::from("/from/env"));
    assert_eq!(config.risk.price_band_bps, Some(Decimal::from(100)));
    assert_eq!(config.live.speed, "max", "defaults stay");
}

#[test]
fn unknown_keys_name_the_key_and_the_file() {
    let file = write("[live]\nplugin_dir = \"./plugins\"\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("unknown key")
        .to_string();
    assert!(
        error.contains("plugin_dir") && error.contains(&file.path().display().to_string()),
        "{error}"
    );
    let file = write("[risk]\nmax_actions_per_second = \"many\"\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("bad value")
        .to_string();
    assert!(
        error.contains("max_actions_per_second") || error.contains("invalid type"),
        "{error}"
    );
    assert!(
        error.contains(&file.path().display().to_string()),
        "{error}"
    );
    let error = load(
        None,
        vec![("TESSER_LIVE__TIMER".to_owned(), "5".to_owned())],
    )
    .expect_err("env")
    .to_string();
    assert!(
        error.contains("TESSER_LIVE__TIMER") && error.contains("timer"),
        "{error}"
    );
    let file = write("[live]\ntimer_ms = 0\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("zero")
        .to_string();
    assert!(error.contains("live.timer_ms"), "{error}");
}

#[test]
fn plugin_defaults_load_and_equal_the_runtime_defaults() {
    let config = load(None, Vec::new()).expect("config");
    assert_eq!(config.plugin_limits(), PluginLimits::default());
    let mut orchestrator = OrchestratorConfig {
        max_actions_per_result: 1,
        max_log_lines: 1,
        max_log_bytes: 1,
        max_snapshot_bytes: 1,
        max_risk_rejections: 1,
        ..OrchestratorConfig::default()
    };
    config.apply_orchestrator_settings(&mut orchestrator);
    assert_eq!(orchestrator, OrchestratorConfig::default());
}

#[test]
fn completion_grace_loads_and_refuses_what_is_not_a_non_negative_integer() {
    let config = load(None, Vec::new()).expect("config");
    assert_eq!(config.execution.completion_grace_ms, 60_000);
    let file = write("[execution]\ncompletion_grace_ms = 0\n");
    let config = load(Some(file.path()), Vec::new()).expect("zero is allowed");
    let mut orchestrator = OrchestratorConfig::default();
    config.apply_orchestrator_settings(&mut orchestrator);
    assert_eq!(orchestrator.completion_grace_ms, 0);
    for bad in ["-1", "\"soon\"", "1.5"] {
        let file = write(&format!("[execution]\ncompletion_grace_ms = {bad}\n"));
        let error = load(Some(file.path()), Vec::new())
            .expect_err(bad)
            .to_string();
        let path = file.path().display().to_string();
        assert!(
            error.contains("completion_grace_ms") && error.contains(&path),
            "{bad}: {error}"
        );
        assert_eq!(error.lines().count(), 1, "{error}");
    }
}

#[test]
fn plugin_limits_layer_from_file_and_environment() {
    let file = write("[plugins]\nmax_memory_mib = 32\nmax_log_lines = 10\n");
    let env = vec![
        (
            "TESSER_PLUGINS__MAX_MEMORY_MIB".to_owned(),
            "128".to_owned(),
        ),
        (
            "TESSER_PLUGINS__CALLBACK_DEADLINE_MS".to_owned(),
            "200".to_owned(),
        ),
        (
            "TESSER_PLUGINS__MAX_RISK_REJECTIONS".to_owned(),
            "7".to_owned(),
        ),
    ];
    let config = load(Some(file.path()), env).expect("config");
    let limits = config.plugin_limits();
    assert_eq!(limits.max_memory_bytes, 128 << 20, "env beats file");
    assert_eq!(limits.callback_deadline, Duration::from_millis(200));
    assert_eq!(limits.max_wasm_stack_bytes, 512 << 10, "defaults stay");
    let mut orchestrator = OrchestratorConfig::default();
    config.apply_orchestrator_settings(&mut orchestrator);
    assert_eq!(orchestrator.max_log_lines, 10, "from the file");
    assert_eq!(orchestrator.max_risk_rejections, 7, "from the env");
    assert_eq!(orchestrator.max_snapshot_bytes, 1 << 20, "defaults stay");
}

#[test]
fn plugin_cache_dir_defaults_next_to_the_state_file() {
    let config = load(None, Vec::new()).expect("config");
    assert_eq!(config.plugins.cache_dir, None);
    assert_eq!(
        config.plugin_cache_dir(),
        Some(PathBuf::from("./plugin-cache"))
    );
    let file = write("[live]\nstate_path = \"/var/lib/tesser/state.sqlite\"\n");
    let config = load(Some(file.path()), Vec::new()).expect("config");
    assert_eq!(
        config.plugin_cache_dir(),
        Some(PathBuf::from("/var/lib/tesser/plugin-cache"))
    );
    let file = write("[live]\nstate_path = \"state.sqlite\"\n");
    let config = load(Some(file.path()), Vec::new()).expect("config");
    assert_eq!(
        config.plugin_cache_dir(),
        Some(PathBuf::from("plugin-cache"))
    );

    let file = write("[plugins]\ncache_dir = \"/from/file\"\n");
    let config = load(Some(file.path()), Vec::new()).expect("config");
    assert_eq!(config.plugin_cache_dir(), Some(PathBuf::from("/from/file")));
    let env = vec![(
        "TESSER_PLUGINS__CACHE_DIR".to_owned(),
        "/from/env".to_owned(),
    )];
    let config = load(Some(file.path()), env).expect("config");
    assert_eq!(config.plugin_cache_dir(), Some(PathBuf::from("/from/env")));
    let env = vec![("TESSER_PLUGINS__CACHE_DIR".to_owned(), String::new())];
    let config = load(None, env).expect("config");
    assert_eq!(config.plugin_cache_dir(), None, "empty switches it off");

    let file = write("[plugins]\ncache_dir = 5\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("not a path")
        .to_string();
    assert!(
        error.contains("cache_dir") && error.contains(&file.path().display().to_string()),
        "{error}"
    );
    let file = write("[plugins]\ncache_directory = \"/x\"\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("unknown key")
        .to_string();
    assert!(
        error.contains("cache_directory") && error.contains(&file.path().display().to_string()),
        "{error}"
    );
}

#[test]
fn bad_plugin_limits_name_the_key_the_source_and_the_range() {
    let file = write("[plugins]\nmax_memory_mib = 0\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("zero")
        .to_string();
    assert!(
        error.contains("plugins.max_memory_mib")
            && error.contains(&file.path().display().to_string())
            && error.contains("from 1 to 4096")
            && error.contains("got 0"),
        "{error}"
    );
    let file = write("[plugins]\nmax_memory_mib = 8192\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("above 4 GiB")
        .to_string();
    assert!(
        error.contains("plugins.max_memory_mib") && error.contains("got 8192"),
        "{error}"
    );
    let error = load(
        None,
        vec![("TESSER_PLUGINS__MAX_LOG_LINES".to_owned(), "-5".to_owned())],
    )
    .expect_err("negative")
    .to_string();
    assert!(
        error.contains("environment variable TESSER_PLUGINS__MAX_LOG_LINES")
            && error.contains("plugins.max_log_lines")
            && error.contains("got -5"),
        "{error}"
    );
    let error = load(
        None,
        vec![(
            "TESSER_PLUGINS__CALLBACK_DEADLINE_MS".to_owned(),
            "fast".to_owned(),
        )],
    )
    .expect_err("not a number")
    .to_string();
    assert!(
        error.contains("TESSER_PLUGINS__CALLBACK_DEADLINE_MS"),
        "{error}"
    );
    let file = write("[plugins]\nmax_memory = 64\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("unknown key")
        .to_string();
    assert!(
        error.contains("max_memory") && error.contains(&file.path().display().to_string()),
        "{error}"
    );
}

#[test]
fn one_plugins_limits_override_the_plugins_table_for_that_plugin_alone() {
    let file = write(
        "[plugins]\nrecycle_after_calls = 5000\n\
         [plugins.limits.twap_py]\nmax_memory_mib = 128\ncallback_deadline_ms = 500\n\
         [plugins.limits.twap_js]\nrecycle_above_memory_percent = 0\n",
    );
    let env = vec![(
        "TESSER_PLUGINS__LIMITS__TWAP_JS__RECYCLE_AFTER_CALLS".to_owned(),
        "0".to_owned(),
    )];
    let limits = load(Some(file.path()), env)
        .expect("config")
        .plugin_limits();
    assert_eq!(
        limits.recycle,
        RecyclePolicy {
            after_calls: Some(5000),
            above_memory_percent: Some(75),
        }
    );
    assert_eq!(limits.max_memory_bytes_for("twap_py"), 128 << 20);
    assert_eq!(limits.max_memory_bytes_for("twap"), 64 << 20);
    assert_eq!(
        limits.memory_slot_bytes(),
        128 << 20,
        "slots fit the largest"
    );
    assert_eq!(
        limits.callback_deadline_for("twap_py"),
        Duration::from_millis(500)
    );
    assert_eq!(
        limits.callback_deadline_for("twap_js"),
        limits.callback_deadline
    );
    assert_eq!(
        limits.recycle_for("twap_py"),
        limits.recycle,
        "not overridden"
    );
    assert_eq!(
        limits.recycle_for("twap_js"),
        RecyclePolicy::NEVER,
        "file + env"
    );
}

#[test]
fn bad_per_plugin_limits_name_the_plugin_and_the_key() {
    let file = write("[plugins.limits.algo]\nmax_memory_mib = 0\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("zero")
        .to_string();
    assert!(
        error.contains("plugins.limits.algo.max_memory_mib") && error.contains("got 0"),
        "{error}"
    );
    let file = write("[plugins.limits.algo]\nmax_snapshot_bytes = 10\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("not a per-plugin key")
        .to_string();
    assert!(error.contains("max_snapshot_bytes"), "{error}");
    let file = write("[plugins]\nrecycle_above_memory_percent = 101\n");
    let error = load(Some(file.path()), Vec::new())
        .expect_err("over 100")
        .to_string();
    assert!(
        error.contains("plugins.recycle_above_memory_percent") && error.contains("from 0 to 100"),
        "{error}"
    );
}
