//! Host bindings generated from `tesser-wasm/wit/plugin.wit`.

wasmtime::component::bindgen!({
    path: "../tesser-wasm/wit",
    world: "execution-plugin",
});

pub(crate) use tesser::plugin::types as wit;
