//! The plugin's exported functions, found once per plugin and called per
//! instance.
//!
//! `wasmtime::component::bindgen!` type-checks every export again for every
//! instance (`get_typed_func` on each of the ten): a fifth of an
//! instantiation, for a result that cannot change, since types belong to
//! the component, not to the instance. Here each export is found once per
//! plugin ([`ExportIndices::new`]) and type-checked once, on the plugin's
//! first instance, against the very signatures the calls use
//! ([`GuestExports::check_types`]). An instance then only looks its
//! functions up by index ([`ExportIndices::load`]), and each call makes its
//! typed function without checking again, as the generated bindings
//! themselves do for every call.

use wasmtime::Store;
use wasmtime::component::{Component, ComponentExportIndex, Func, Instance, TypedFunc};

use super::bindings::wit;
use super::instance::HostState;

/// Declares the exports once: the index struct, the function struct, their
/// lookups, the type checks and the typed functions, so that the signature
/// a call uses is the one that was checked.
macro_rules! guest_exports {
    ($($field:ident, $typed:ident: $name:literal as fn $params:ty => $ret:ty;)*) => {
        /// Where each export of the guest interface is in the component.
        #[derive(Debug, Clone)]
        pub(crate) struct ExportIndices {
            $($field: ComponentExportIndex,)*
        }

        impl ExportIndices {
            /// Finds the exports of `interface` (e.g. `tesser:plugin/guest@2.0.0`)
            /// in `component`.
            ///
            /// # Errors
            /// The name of what is missing.
            pub(crate) fn new(component: &Component, interface: &str) -> Result<Self, String> {
                let guest = component
                    .get_export_index(None, interface)
                    .ok_or_else(|| format!("no `{interface}` export"))?;
                Ok(Self {
                    $($field: component
                        .get_export_index(Some(&guest), $name)
                        .ok_or_else(|| format!("`{interface}` does not export `{}`", $name))?,)*
                })
            }

            /// The functions of `instance`, an instance of the component the
            /// indices were found in. Types are not checked here: see
            /// [`GuestExports::check_types`].
            ///
            /// # Errors
            /// The name of an export the instance lacks.
            pub(crate) fn load(
                &self,
                store: &mut Store<HostState>,
                instance: &Instance,
            ) -> Result<GuestExports, String> {
                Ok(GuestExports {
                    $($field: instance
                        .get_func(&mut *store, &self.$field)
                        .ok_or_else(|| format!("the instance has no `{}` function", $name))?,)*
                })
            }
        }

        /// The guest interface's functions of one instance.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct GuestExports {
            $($field: Func,)*
        }

        // reason: `'a` names the borrow of the record parameters; the
        // functions without one share the macro's shape.
        #[allow(clippy::extra_unused_lifetimes)]
        impl GuestExports {
            /// Checks every export against the signature its typed function
            /// uses. The engine runs this on a plugin's probe instance, at
            /// load, before any other call; the answer holds for every
            /// instance of the same component (types belong to it).
            ///
            /// # Errors
            /// Which export has which wrong type.
            pub(crate) fn check_types<'a>(&self, store: &Store<HostState>) -> Result<(), String> {
                $(
                    self.$field
                        .typed::<$params, $ret>(store)
                        .map_err(|error| format!("export `{}`: {error:#}", $name))?;
                )*
                Ok(())
            }

            $(
                fn $typed<'a>(&self) -> TypedFunc<$params, $ret> {
                    // SAFETY: `check_types` checked `self.$field`'s export,
                    // by index in the same component, against these very
                    // types when the plugin was loaded, and the engine
                    // instantiates a plugin only after that check passed.
                    unsafe { TypedFunc::new_unchecked(self.$field) }
                }
            )*
        }
    };
}

guest_exports! {
    abi_version, typed_abi_version: "abi-version" as fn () => (wit::Version,);
    metadata, typed_metadata: "metadata" as fn () => (wit::PluginMetadata,);
    init, typed_init: "init" as fn (&'a wit::InitContext,) => (wit::EventOutcome,);
    on_tick, typed_on_tick: "on-tick" as fn (wit::Tick,) => (wit::EventOutcome,);
    on_fill, typed_on_fill: "on-fill" as fn (&'a wit::Fill,) => (wit::EventOutcome,);
    on_order_update, typed_on_order_update: "on-order-update"
        as fn (&'a wit::OrderUpdate,) => (wit::EventOutcome,);
    on_timer, typed_on_timer: "on-timer" as fn (wit::Timer,) => (wit::EventOutcome,);
    take_result, typed_take_result: "take-result"
        as fn () => (Result<wit::PluginResult, wit::PluginError>,);
    snapshot, typed_snapshot: "snapshot" as fn () => (Result<String, wit::PluginError>,);
    restore, typed_restore: "restore"
        as fn (&'a wit::RestoreContext,) => (Result<(), wit::PluginError>,);
}

type Outcome = wasmtime::Result<wit::EventOutcome>;

impl GuestExports {
    pub(crate) fn call_abi_version(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<wit::Version> {
        Ok(self.typed_abi_version().call(store, ())?.0)
    }

    pub(crate) fn call_metadata(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<wit::PluginMetadata> {
        Ok(self.typed_metadata().call(store, ())?.0)
    }

    pub(crate) fn call_init(
        &self,
        store: &mut Store<HostState>,
        ctx: &wit::InitContext,
    ) -> Outcome {
        Ok(self.typed_init().call(store, (ctx,))?.0)
    }

    pub(crate) fn call_on_tick(&self, store: &mut Store<HostState>, tick: wit::Tick) -> Outcome {
        Ok(self.typed_on_tick().call(store, (tick,))?.0)
    }

    pub(crate) fn call_on_fill(&self, store: &mut Store<HostState>, fill: &wit::Fill) -> Outcome {
        Ok(self.typed_on_fill().call(store, (fill,))?.0)
    }

    pub(crate) fn call_on_order_update(
        &self,
        store: &mut Store<HostState>,
        update: &wit::OrderUpdate,
    ) -> Outcome {
        Ok(self.typed_on_order_update().call(store, (update,))?.0)
    }

    pub(crate) fn call_on_timer(&self, store: &mut Store<HostState>, timer: wit::Timer) -> Outcome {
        Ok(self.typed_on_timer().call(store, (timer,))?.0)
    }

    pub(crate) fn call_take_result(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Result<wit::PluginResult, wit::PluginError>> {
        Ok(self.typed_take_result().call(store, ())?.0)
    }

    pub(crate) fn call_snapshot(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Result<String, wit::PluginError>> {
        Ok(self.typed_snapshot().call(store, ())?.0)
    }

    pub(crate) fn call_restore(
        &self,
        store: &mut Store<HostState>,
        ctx: &wit::RestoreContext,
    ) -> wasmtime::Result<Result<(), wit::PluginError>> {
        Ok(self.typed_restore().call(store, (ctx,))?.0)
    }
}
