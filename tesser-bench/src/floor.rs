//! F: the floor, one no-op component call through wasmtime on the engine the
//! plugins run on (same `Config`: pooling allocator, epochs, no async).

use wasmtime::Store;
use wasmtime::component::{Component, Linker, TypedFunc};

/// A component exporting `noop: func()`, whose core function does nothing.
const NOOP_COMPONENT: &str = r#"
(component
  (core module $m (func (export "noop")))
  (core instance $i (instantiate $m))
  (func (export "noop") (canon lift (core func $i "noop")))
)
"#;

/// A no-op component instance, ready to call.
pub struct Floor {
    store: Store<()>,
    noop: TypedFunc<(), ()>,
}

impl Floor {
    /// Instantiates the no-op component on `engine`.
    ///
    /// # Errors
    /// The component did not compile or instantiate.
    pub fn new(engine: &wasmtime::Engine) -> anyhow::Result<Self> {
        let component = Component::new(engine, NOOP_COMPONENT)?;
        let mut store = Store::new(engine, ());
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = Linker::new(engine).instantiate(&mut store, &component)?;
        let noop = instance.get_typed_func::<(), ()>(&mut store, "noop")?;
        Ok(Self { store, noop })
    }

    /// One call.
    ///
    /// # Errors
    /// The call trapped.
    pub fn call(&mut self) -> anyhow::Result<()> {
        self.noop.call(&mut self.store, ())?;
        Ok(())
    }
}
