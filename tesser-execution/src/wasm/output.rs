//! Bounded capture of what a guest writes to stdout and stderr.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::algorithm::{GuestOutputLine, GuestStream};

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    dropped: usize,
}

/// A guest output stream that keeps at most `capacity` bytes between drains
/// and silently drops the rest, so a chatty guest can neither fail nor
/// exhaust the host.
#[derive(Debug, Clone)]
pub(crate) struct BoundedOutput {
    capacity: usize,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Set by a write, cleared by a drain: the host checks it after every
    /// callback, so the usual silent callback takes no lock.
    written: AtomicBool,
    buffer: Mutex<Buffer>,
}

impl BoundedOutput {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            shared: Arc::default(),
        }
    }

    /// Moves the captured lines into `out`, noting dropped bytes.
    pub(crate) fn drain_into(&self, stream: GuestStream, out: &mut Vec<GuestOutputLine>) {
        // The guest runs on the caller's thread, so its writes happened
        // before this load; `Acquire` pairs with the writer's `Release`.
        if !self.shared.written.swap(false, Ordering::Acquire) {
            return;
        }
        let mut buffer = self
            .shared
            .buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if buffer.bytes.is_empty() && buffer.dropped == 0 {
            return;
        }
        for line in buffer.bytes.split(|byte| *byte == b'\n') {
            if !line.is_empty() {
                out.push(GuestOutputLine {
                    stream,
                    line: String::from_utf8_lossy(line).into_owned(),
                });
            }
        }
        if buffer.dropped > 0 {
            out.push(GuestOutputLine {
                stream,
                line: format!(
                    "[{} more bytes dropped: output limit reached]",
                    buffer.dropped
                ),
            });
        }
        buffer.bytes.clear();
        buffer.dropped = 0;
    }

    fn write_bytes(&self, bytes: &[u8]) {
        let mut buffer = self
            .shared
            .buffer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let room = self.capacity.saturating_sub(buffer.bytes.len());
        let kept = bytes.len().min(room);
        buffer.bytes.extend_from_slice(&bytes[..kept]);
        buffer.dropped += bytes.len() - kept;
        self.shared.written.store(true, Ordering::Release);
    }
}

impl IsTerminal for BoundedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for BoundedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for BoundedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for BoundedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_bytes(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: excess is dropped, never refused.
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for BoundedOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.write_bytes(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
