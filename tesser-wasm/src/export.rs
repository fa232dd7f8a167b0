//! The `export_plugin!` macro.

/// Exports a type implementing [`ExecutionPlugin`](crate::ExecutionPlugin)
/// and [`Default`] as the plugin of this crate, so that building the crate
/// for `wasm32-wasip2` (or `wasm32-wasip1`) produces a Tesser plugin.
///
/// Call it once, at the top level of a `cdylib` crate that depends on
/// `tesser-wasm` with the `guest` feature. Each plugin instance holds one
/// value of the type, created with `Default` and started by `init`.
///
/// Name, version and description reported to the host default to the crate's
/// `Cargo.toml` fields; override `ExecutionPlugin::metadata` to change them or
/// to declare a params schema.
///
/// When the crate is compiled natively (for unit tests), the macro emits no
/// exports; drive the type with [`PluginRuntime`](crate::PluginRuntime).
///
/// ```
/// use tesser_wasm::{export_plugin, ExecutionPlugin, PluginError, PluginInitContext, PluginResult};
///
/// #[derive(Default)]
/// struct Noop;
///
/// impl ExecutionPlugin for Noop {
///     fn init(&mut self, _ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
///         Ok(PluginResult::new().completed())
///     }
/// }
///
/// export_plugin!(Noop);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            // Refuses, at the caller's type, anything that is not a plugin.
            fn __tesser_assert_plugin<T: $crate::ExecutionPlugin + ::core::default::Default + 'static>() {}
            let _ = __tesser_assert_plugin::<$plugin>;
        };

        #[doc(hidden)]
        #[allow(dead_code)] // reason: only the wasm32 exports below name it.
        struct __TesserPluginSlot;

        impl $crate::__private::PluginSlot for __TesserPluginSlot {
            type Plugin = $plugin;

            fn with_state<R>(
                f: impl FnOnce(&mut $crate::__private::InstanceState<$plugin>) -> R,
            ) -> R {
                $crate::__private::thread_local! {
                    static STATE: $crate::__private::RefCell<$crate::__private::InstanceState<$plugin>> =
                        $crate::__private::RefCell::new(::core::default::Default::default());
                }
                STATE.with(|state| f(&mut state.borrow_mut()))
            }

            fn crate_metadata() -> $crate::PluginMetadata {
                $crate::PluginMetadata {
                    name: ::core::env!("CARGO_PKG_NAME").into(),
                    version: ::core::env!("CARGO_PKG_VERSION").into(),
                    description: ::core::env!("CARGO_PKG_DESCRIPTION").into(),
                    params_schema: ::core::option::Option::None,
                }
            }
        }

        #[cfg(target_arch = "wasm32")]
        type __TesserPluginExports = $crate::__private::Exports<__TesserPluginSlot>;

        #[cfg(target_arch = "wasm32")]
        $crate::__private::bindings::export!(__TesserPluginExports with_types_in $crate::__private::bindings);
    };
}
