//! Exports `tesser:plugin/guest@1.0.0`, the ABI major version before the
//! host's: a plugin built against an older SDK.

wit_bindgen::generate!({
    inline: "
        package tesser:plugin@1.0.0;

        interface types {
            record version { major: u16, minor: u16, patch: u16 }
        }

        interface guest {
            use types.{version};
            abi-version: func() -> version;
        }

        world execution-plugin {
            export guest;
        }
    ",
    world: "execution-plugin",
});

struct Plugin;

impl exports::tesser::plugin::guest::Guest for Plugin {
    fn abi_version() -> tesser::plugin::types::Version {
        tesser::plugin::types::Version {
            major: 1,
            minor: 0,
            patch: 0,
        }
    }
}

export!(Plugin);
