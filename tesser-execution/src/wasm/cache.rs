//! An on-disk cache of precompiled plugin components, so a process that
//! loads a plugin it (or an earlier process) has compiled before skips
//! Cranelift and maps the machine code from a file instead.
//!
//! A [`CompiledCache`] is one directory of `<key>.cwasm` files, each the
//! output of [`Component::serialize`]. The key is the SHA-256 of the
//! component bytes handed to the compiler (after a `wasm32-wasip1` core
//! module has been adapted to a component) together with
//! [`Engine::precompile_compatibility_hash`] (the wasmtime version, target
//! and every compilation setting), so a changed plugin or a changed engine
//! configuration never finds an old entry. Entries are written to a
//! temporary file in the same directory, flushed and renamed into place, so
//! processes sharing the directory never see half a file. An entry that does
//! not deserialize is logged, deleted and compiled again; a cache that cannot
//! be written is logged and skipped. The cache never makes a load fail that
//! would succeed without it.
//!
//! # Safety conditions
//!
//! Loading an entry uses [`Component::deserialize_file`], which is `unsafe`:
//! wasmtime only lightly validates a serialized component, so bytes that did
//! not come unmodified from [`Component::serialize`] (or
//! `Engine::precompile_component`) can make it run arbitrary code; and the
//! file is memory-mapped, so it must not change while the component is
//! alive. The cache upholds both:
//!
//! * **Only this user writes the directory.** On unix the directory is
//!   created with mode `0o700`; [`CompiledCache::open`] refuses one that is
//!   not owned by the effective user or that group or others may write, and
//!   each entry is checked the same way (a regular file, not a symlink,
//!   owned by this user, not writable by group or others) before it is
//!   loaded. Anyone who can write the directory can run code in every
//!   process that uses it, so point the cache at a directory of the user
//!   the runtime runs as, whose parent directories others cannot write
//!   either. On other platforms the directory's permissions are not checked.
//! * **Only [`Component::serialize`] output is written**, by this module,
//!   and only through a fresh temporary file and `rename`: an entry already
//!   in place (possibly mapped by a running process) is never modified, only
//!   replaced or unlinked, which leaves existing mappings intact.
//! * **Entries from another wasmtime or configuration are never used**: the
//!   key includes the engine's compatibility hash, and wasmtime itself
//!   rejects, safely, a serialized component from another version or
//!   configuration.
//!
//! Deleting the directory or any entry is always safe, also while a process
//! is running; editing an entry in place is not.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The extension of a cache entry.
const ENTRY_EXTENSION: &str = "cwasm";

/// Separates this cache's keys from any other use of SHA-256 over the same
/// bytes; bump the version to orphan every existing entry.
const KEY_DOMAIN: &[u8] = b"tesser compiled plugin cache v1\0";

/// Why a cache directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The directory does not exist and cannot be created, or cannot be
    /// inspected.
    #[error(
        "cannot use {} as the compiled-plugin cache: {source}; create it (mode 0700) or choose another directory",
        .path.display()
    )]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The path exists but is not a directory.
    #[error(
        "cannot use {} as the compiled-plugin cache: it is not a directory; choose another path",
        .path.display()
    )]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Someone other than this user could put files into the directory, and
    /// the cache would then run their code.
    #[error(
        "refusing the compiled-plugin cache {}: {reason}; anyone who can write it could make plugins run arbitrary code. Run `chmod 700 {}` as its owner, or choose a directory of your own",
        .path.display(), .path.display()
    )]
    Insecure {
        /// The directory.
        path: PathBuf,
        /// What is wrong with its owner or mode.
        reason: String,
    },
}

/// A directory of precompiled plugin components (`<sha-256>.cwasm`), keyed
/// by the component's bytes and the engine's compilation settings, written
/// atomically and shared safely by concurrent processes.
///
/// Loading an entry runs machine code from the file, so the directory must be
/// writable by this user alone: on unix [`open`](Self::open) creates it with
/// mode `0o700` and refuses one owned by another user or writable by group
/// or others, and every entry is checked likewise before it is loaded.
/// Entries are only ever replaced or deleted, never edited in place;
/// deleting them (or the directory) is always safe. A corrupt entry is
/// deleted and compiled again, and a failure to write one is logged: the
/// cache never makes a load fail.
#[derive(Debug, Clone)]
pub struct CompiledCache {
    dir: PathBuf,
}

impl CompiledCache {
    /// Opens the cache in `dir`, creating it (with mode `0o700` on unix, and
    /// any missing parents) when it does not exist.
    ///
    /// # Errors
    /// [`CacheError::Io`] when the directory cannot be created or inspected;
    /// [`CacheError::NotADirectory`] when `dir` is something else;
    /// [`CacheError::Insecure`] (unix) when it is not owned by the effective
    /// user or group or others may write it.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let dir = dir.into();
        let io_error = |source| CacheError::Io {
            path: dir.clone(),
            source,
        };
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        if let Err(source) = builder.create(&dir) {
            return Err(
                if fs::metadata(&dir).is_ok_and(|metadata| !metadata.is_dir()) {
                    CacheError::NotADirectory { path: dir }
                } else {
                    io_error(source)
                },
            );
        }
        // Follows a symlink: what matters is the directory entries land in.
        let metadata = fs::metadata(&dir).map_err(io_error)?;
        if !metadata.is_dir() {
            return Err(CacheError::NotADirectory { path: dir });
        }
        if let Err(reason) = check_owner_and_mode(&metadata) {
            return Err(CacheError::Insecure { path: dir, reason });
        }
        Ok(Self { dir })
    }

    /// The cache directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry for `component_bytes` compiled by `engine` lives
    /// (whether or not it exists): `<dir>/<64 hex digits>.cwasm`.
    #[must_use]
    pub fn entry_path(&self, engine: &Engine, component_bytes: &[u8]) -> PathBuf {
        // The engine's settings get a digest of their own, so the key is
        // a hash of fixed-length fields followed by the component.
        let mut settings = Sha256::new();
        engine
            .precompile_compatibility_hash()
            .hash(&mut DigestHasher(&mut settings));
        let mut sha = Sha256::new();
        sha.update(KEY_DOMAIN);
        sha.update(settings.finalize());
        sha.update(component_bytes);
        let mut name = String::with_capacity(64 + 1 + ENTRY_EXTENSION.len());
        for byte in sha.finalize() {
            name.push(char::from(HEX[usize::from(byte >> 4)]));
            name.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        name.push('.');
        name.push_str(ENTRY_EXTENSION);
        self.dir.join(name)
    }

    /// Returns the component for `component_bytes` from the cache, or calls
    /// `compile` and stores what it returns. The flag is `true` when the
    /// component came from the cache.
    ///
    /// A missing, refused or unreadable entry means a compile; an entry that
    /// does not deserialize is deleted first. Failing to store an entry is
    /// logged at `warn` and otherwise ignored.
    ///
    /// # Errors
    /// Only what `compile` returns.
    pub fn load_or_compile<E>(
        &self,
        engine: &Engine,
        component_bytes: &[u8],
        compile: impl FnOnce() -> Result<Component, E>,
    ) -> Result<(Component, bool), E> {
        let path = self.entry_path(engine, component_bytes);
        if let Some(component) = self.lookup(engine, &path) {
            return Ok((component, true));
        }
        let component = compile()?;
        if let Err(error) = self.store(&path, &component) {
            tracing::warn!(
                path = %path.display(),
                %error,
                "cannot write to the compiled-plugin cache; the next start compiles this plugin again"
            );
        }
        Ok((component, false))
    }

    /// The entry at `path`, if there is a usable one.
    fn lookup(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let metadata = match fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return None,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot read the compiled-plugin cache entry; compiling instead");
                return None;
            }
        };
        let refused = if metadata.file_type().is_file() {
            check_owner_and_mode(&metadata).err()
        } else {
            Some("it is not a regular file".to_owned())
        };
        if let Some(reason) = refused {
            tracing::warn!(path = %path.display(), %reason, "refusing the compiled-plugin cache entry; compiling instead and replacing it");
            return None;
        }
        // SAFETY: `Component::deserialize_file` requires that the file holds
        // bytes produced, unmodified, by `Component::serialize` (or
        // `Engine::precompile_component`) of a compatible wasmtime, and that
        // the file is not modified while the returned component (which maps
        // it) is alive. Both hold because only this user can write here:
        // `open` refused a directory that is not owned by the effective user
        // or that group or others may write, and just above this entry was
        // checked to be a regular file of this user that group and others
        // cannot write. Within this user, entries are only ever created by
        // `store` below, from `Component::serialize` output, through a fresh
        // temporary file renamed into place, and are never written in place:
        // replacing or unlinking an entry leaves the mapped inode unchanged.
        // Output of another wasmtime version or configuration is rejected by
        // wasmtime with an error (and the key includes the engine's
        // compatibility hash, so such a file is not even looked up).
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(
                    path = %path.display(),
                    error = %format!("{error:#}"),
                    "corrupt or stale compiled-plugin cache entry; deleting it and compiling instead"
                );
                if let Err(error) = fs::remove_file(path)
                    && error.kind() != io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %path.display(), %error, "cannot delete the compiled-plugin cache entry");
                }
                None
            }
        }
    }

    /// Writes `component` to `path` atomically: a fresh temporary file in
    /// the same directory, flushed to disk, then renamed over `path`.
    fn store(&self, path: &Path, component: &Component) -> Result<(), String> {
        let bytes = component
            .serialize()
            .map_err(|error| format!("cannot serialize the component: {error:#}"))?;
        let temp = self.temp_path(path);
        write_new_file(&temp, &bytes)
            .and_then(|()| fs::rename(&temp, path))
            .map_err(|error| {
                // Best effort: a leftover temporary file is harmless.
                let _ = fs::remove_file(&temp);
                format!("{}: {error}", temp.display())
            })
    }

    /// A temporary name no other thread or process uses at the same time.
    fn temp_path(&self, path: &Path) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("entry");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        self.dir.join(format!(
            ".{stem}.{}-{nanos}-{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Feeds what a [`Hash`] implementation writes into a SHA-256.
struct DigestHasher<'a>(&'a mut Sha256);

impl Hasher for DigestHasher<'_> {
    fn finish(&self) -> u64 {
        // Never read: the digest is taken from the `Sha256` itself.
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Creates `path` (which must not exist; mode `0o600` on unix), writes
/// `bytes` and flushes them to disk, so a crash never leaves a renamed but
/// incomplete entry.
fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Checks that only the effective user can write what `metadata` describes.
#[cfg(unix)]
fn check_owner_and_mode(metadata: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let user = rustix::process::geteuid().as_raw();
    if metadata.uid() != user {
        return Err(format!(
            "it is owned by uid {}, not by this user (uid {user})",
            metadata.uid()
        ));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "group or others may write it (mode {mode:04o}, expected no write bits for group and others, e.g. 0700)"
        ));
    }
    Ok(())
}

/// Permissions are not checked on this platform.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)] // reason: same signature as the unix check
fn check_owner_and_mode(_metadata: &fs::Metadata) -> Result<(), String> {
    Ok(())
}
