//! Prints in `init`, floods stdout in `on_timer`, panics in `on_tick`.

use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginInitContext, PluginResult, PluginTick, export_plugin,
};

#[derive(Default)]
struct Panicky;

impl ExecutionPlugin for Panicky {
    fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        println!("hello from init");
        eprintln!("a warning on stderr");
        Ok(PluginResult::new())
    }

    fn on_tick(&mut self, tick: PluginTick) -> Result<PluginResult, PluginError> {
        panic!("boom at price {}", tick.price);
    }

    fn on_timer(&mut self) -> Result<PluginResult, PluginError> {
        let line = "x".repeat(1023);
        for _ in 0..64 {
            println!("{line}");
        }
        Ok(PluginResult::new().log("flooded"))
    }
}

export_plugin!(Panicky);
