//! The on-disk cache of compiled plugins (`WasmPluginEngine::with_compiled_cache`),
//! driven with the real `plugin-chase` built to `.wasm`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::runtime::test_limits;
use common::{WasmTarget, plugins_dir};
use rust_decimal_macros::dec;
use tesser_execution::wasm::{EngineError, LoadedPlugin, PluginSource, WasmPluginEngine};
use tesser_wasm::{
    PluginChildOrderAction, PluginEvent, PluginInitContext, PluginOrderRequest, PluginOrderType,
    PluginSide,
};

const PART1: &str = include_str!("fixtures/chase_part1.jsonl");
const NAME: &str = "plugin_chase";

/// The fixture's `init`: buy 0.5 BTCUSD in clips of 0.2, last price 10749.4.
fn init_context() -> PluginInitContext {
    let first = PART1.lines().next().expect("fixture line");
    match serde_json::from_str(first).expect("fixture event") {
        PluginEvent::Init(ctx) => *ctx,
        other => panic!("fixture starts with {other:?}"),
    }
}

/// An engine over `plugins` keeping compiled plugins in `cache`.
fn engine(plugins: &Path, cache: &Path) -> WasmPluginEngine {
    WasmPluginEngine::with_limits(plugins, test_limits())
        .expect("engine")
        .with_compiled_cache(cache)
        .expect("compiled cache")
}

fn timed_load(engine: &WasmPluginEngine) -> (Arc<LoadedPlugin>, Duration) {
    let started = Instant::now();
    let plugin = engine.load(NAME).expect("load");
    (plugin, started.elapsed())
}

/// The cache's entries, sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(cache)
        .expect("read cache dir")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .collect();
    entries.sort();
    entries
}

/// Every file name in the cache, entries or not.
fn file_names(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache)
        .expect("read cache dir")
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Instantiates the plugin and checks that a chase starts by placing its
/// first clip at the last price.
fn assert_places_first_clip(engine: &WasmPluginEngine) {
    let mut instance = engine.instantiate(NAME).expect("instantiate");
    let result = instance.init(&init_context()).expect("init");
    assert_eq!(
        result.orders,
        vec![PluginChildOrderAction::Place(PluginOrderRequest {
            symbol: "BTCUSD".to_owned(),
            side: PluginSide::Buy,
            order_type: PluginOrderType::Limit,
            quantity: dec!(0.2),
            price: Some(dec!(10749.4)),
            ..PluginOrderRequest::default()
        })]
    );
}

#[test]
fn a_second_engine_loads_the_compiled_plugin_from_the_cache() {
    let plugins = plugins_dir(&[(WasmTarget::P2, "plugin-chase", NAME)]);
    let root = tempfile::tempdir().expect("temp dir");
    // Missing parents are created too.
    let cache = root.path().join("state").join("plugin-cache");

    let first = engine(plugins.path(), &cache);
    let (cold, cold_time) = timed_load(&first);
    assert!(!cold.loaded_from_cache());
    let stored = entries(&cache);
    assert_eq!(stored.len(), 1, "{:?}", file_names(&cache));
    assert_eq!(
        file_names(&cache).len(),
        1,
        "no temporary file is left behind"
    );
    let stem = stored[0]
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("stem");
    assert!(
        stem.len() == 64 && stem.chars().all(|c| c.is_ascii_hexdigit()),
        "{stem}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&cache) & 0o077, 0, "directory mode {:o}", mode(&cache));
        assert_eq!(
            mode(&stored[0]) & 0o077,
            0,
            "entry mode {:o}",
            mode(&stored[0])
        );
    }
    assert_places_first_clip(&first);

    let second = engine(plugins.path(), &cache);
    let (cached, cached_time) = timed_load(&second);
    assert!(cached.loaded_from_cache());
    assert_eq!(cached.source(), PluginSource::Component);
    assert_eq!(cached.metadata().name, "plugin-chase");
    assert_eq!(
        entries(&cache),
        stored,
        "the entry is reused, not rewritten"
    );
    assert_places_first_clip(&second);
    eprintln!(
        "plugin-chase load (compile, link, probe instance): cold compile {cold_time:?}, from the compiled cache {cached_time:?}"
    );
}

#[test]
fn an_adapted_core_module_is_cached_too() {
    let plugins = plugins_dir(&[(WasmTarget::P1, "plugin-chase", NAME)]);
    let cache = tempfile::tempdir().expect("temp dir");

    let first = engine(plugins.path(), cache.path());
    let (cold, _) = timed_load(&first);
    assert_eq!(cold.source(), PluginSource::CoreModule);
    assert!(!cold.loaded_from_cache());
    assert_eq!(entries(cache.path()).len(), 1);

    // The adapter's output is the same every time, so it finds the entry.
    let second = engine(plugins.path(), cache.path());
    let (cached, _) = timed_load(&second);
    assert_eq!(cached.source(), PluginSource::CoreModule);
    assert!(cached.loaded_from_cache());
    assert_places_first_clip(&second);
}

#[test]
fn a_corrupt_entry_is_replaced_by_a_fresh_compile() {
    let plugins = plugins_dir(&[(WasmTarget::P2, "plugin-chase", NAME)]);
    let cache = tempfile::tempdir().expect("temp dir");
    {
        let first = engine(plugins.path(), cache.path());
        assert!(!first.load(NAME).expect("load").loaded_from_cache());
    }
    // Nothing maps the entry any more (editing an entry that a live
    // component maps is exactly what the cache must never do).
    let [entry] = entries(cache.path()).try_into().expect("one entry");
    std::fs::write(&entry, b"garbage, not a precompiled component").expect("corrupt");

    let second = engine(plugins.path(), cache.path());
    let recompiled = second.load(NAME).expect("a corrupt entry is not an error");
    assert!(!recompiled.loaded_from_cache());
    assert_places_first_clip(&second);
    assert_eq!(entries(cache.path()), vec![entry.clone()]);
    assert_ne!(
        std::fs::read(&entry).expect("entry"),
        b"garbage, not a precompiled component",
        "the entry was written again"
    );

    let third = engine(plugins.path(), cache.path());
    assert!(third.load(NAME).expect("load").loaded_from_cache());
    assert_places_first_clip(&third);
}

#[test]
fn a_changed_plugin_file_does_not_reuse_the_old_entry() {
    let plugins = plugins_dir(&[(WasmTarget::P2, "plugin-chase", NAME)]);
    let cache = tempfile::tempdir().expect("temp dir");
    let first = engine(plugins.path(), cache.path());
    assert!(!first.load(NAME).expect("load").loaded_from_cache());
    let old = entries(cache.path());
    assert_eq!(old.len(), 1);

    // The same plugin, different bytes: a custom section appended (id 0,
    // size, name, payload), as a rebuild with other debug info would be.
    let path = plugins.path().join(format!("{NAME}.wasm"));
    let mut bytes = std::fs::read(&path).expect("plugin");
    let name = b"tesser-test";
    let payload = b"rebuilt";
    bytes.push(0);
    bytes.push(u8::try_from(1 + name.len() + payload.len()).expect("small"));
    bytes.push(u8::try_from(name.len()).expect("small"));
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let staged = plugins.path().join("staged.tmp");
    std::fs::write(&staged, &bytes).expect("write");
    std::fs::rename(&staged, &path).expect("rename");

    let second = engine(plugins.path(), cache.path());
    let changed = second.load(NAME).expect("load the changed plugin");
    assert!(
        !changed.loaded_from_cache(),
        "the old entry must not serve new bytes"
    );
    assert_eq!(changed.metadata().name, "plugin-chase");
    let now = entries(cache.path());
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now.contains(&old[0]));
    assert_places_first_clip(&second);

    // A new engine finds the entry of the changed file.
    let third = engine(plugins.path(), cache.path());
    assert!(third.load(NAME).expect("load").loaded_from_cache());
}

#[test]
fn a_cache_that_cannot_be_written_only_warns() {
    let plugins = plugins_dir(&[(WasmTarget::P2, "plugin-chase", NAME)]);
    let cache = tempfile::tempdir().expect("temp dir");
    {
        let first = engine(plugins.path(), cache.path());
        first.load(NAME).expect("load");
    }
    // A non-empty directory where the entry belongs: it is refused on
    // lookup, and no file can be renamed over it, even by root.
    let [entry] = entries(cache.path()).try_into().expect("one entry");
    std::fs::remove_file(&entry).expect("remove entry");
    std::fs::create_dir(&entry).expect("directory in the way");
    std::fs::write(entry.join("keep"), b"").expect("keep");

    let second = engine(plugins.path(), cache.path());
    let plugin = second.load(NAME).expect("the cache never fails a load");
    assert!(!plugin.loaded_from_cache());
    assert!(entry.is_dir());
    assert_eq!(
        file_names(cache.path()).len(),
        1,
        "the failed write left no temporary file"
    );
    assert_places_first_clip(&second);
}

#[cfg(unix)]
#[test]
fn a_cache_dir_others_can_write_is_refused_naming_it() {
    use std::os::unix::fs::PermissionsExt;

    let root = tempfile::tempdir().expect("temp dir");
    let plugins = plugins_dir(&[(WasmTarget::P2, "plugin-chase", NAME)]);
    for mode in [0o777, 0o720] {
        let cache = root.path().join(format!("shared-{mode:o}"));
        std::fs::create_dir(&cache).expect("mkdir");
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let error = WasmPluginEngine::with_limits(plugins.path(), test_limits())
            .expect("engine")
            .with_compiled_cache(&cache)
            .expect_err("a directory others can write is refused");
        assert!(matches!(error, EngineError::Cache(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(&cache.display().to_string())
                && message.contains(&format!("mode {mode:04o}"))
                && message.contains("chmod 700"),
            "{message}"
        );
        assert!(entries(&cache).is_empty());
    }

    // A file where the directory should be.
    let file = root.path().join("not-a-dir");
    std::fs::write(&file, b"").expect("file");
    let message = WasmPluginEngine::with_limits(plugins.path(), test_limits())
        .expect("engine")
        .with_compiled_cache(&file)
        .expect_err("not a directory")
        .to_string();
    assert!(
        message.contains(&file.display().to_string()) && message.contains("not a directory"),
        "{message}"
    );
}
