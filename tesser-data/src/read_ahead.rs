//! Decompression on a thread of its own: a [`ReadAhead`] inflates the next
//! chunks while the caller parses the current one, so reading a `.gz` or
//! `.zip` costs about the larger of the two, not their sum.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Chunks inflated ahead of the reader.
const CHUNKS_AHEAD: usize = 4;

/// A [`BufRead`] over bytes another thread reads from `inner`, in chunks of
/// `chunk_bytes`, up to [`CHUNKS_AHEAD`] ahead. Errors of `inner` reach
/// the caller in order; dropping the reader stops the thread.
pub(crate) struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl ReadAhead {
    /// Starts reading `inner` on a new thread.
    ///
    /// # Errors
    /// The thread could not be started (`inner` is dropped).
    pub(crate) fn spawn<R: Read + Send + 'static>(
        inner: R,
        chunk_bytes: usize,
    ) -> Result<Self, io::Error> {
        let (sender, chunks) = sync_channel(CHUNKS_AHEAD);
        std::thread::Builder::new()
            .name("tesser-inflate".into())
            .spawn(move || produce(inner, chunk_bytes.max(1), &sender))?;
        Ok(Self {
            chunks,
            current: Vec::new(),
            pos: 0,
            finished: false,
        })
    }
}

/// The thread's loop: full chunks until the end (an empty chunk) or an
/// error, or until the reader is dropped.
fn produce<R: Read>(mut inner: R, chunk_bytes: usize, sender: &SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut chunk = vec![0_u8; chunk_bytes];
        let mut filled = 0;
        while filled < chunk.len() {
            match inner.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    // Hand over what was read, then the error.
                    chunk.truncate(filled);
                    if filled > 0 && sender.send(Ok(chunk)).is_err() {
                        return;
                    }
                    let _ = sender.send(Err(error));
                    return;
                }
            }
        }
        chunk.truncate(filled);
        let end = filled == 0;
        if sender.send(Ok(chunk)).is_err() || end {
            return;
        }
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.current.len() && !self.finished {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.finished = chunk.is_empty();
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(error)) => {
                    self.finished = true;
                    return Err(error);
                }
                Err(_) => {
                    self.finished = true;
                    return Err(io::Error::other(
                        "the decompression thread stopped before the end of the data",
                    ));
                }
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.current.len());
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields `data` in pieces of 7 bytes, then `error` if given.
    struct Pieces {
        data: Vec<u8>,
        pos: usize,
        error: Option<io::ErrorKind>,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.data.len() {
                return match self.error {
                    Some(kind) => Err(io::Error::new(kind, "cut short")),
                    None => Ok(0),
                };
            }
            let n = buf.len().min(7).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn every_byte_arrives_in_order_then_the_end() {
        let data: Vec<u8> = (0..100_000_u32).map(|i| (i % 251) as u8).collect();
        let inner = Pieces {
            data: data.clone(),
            pos: 0,
            error: None,
        };
        let mut reader = ReadAhead::spawn(inner, 1000).expect("thread");
        let mut out = Vec::new();
        reader.read_to_end(&mut out).expect("read");
        assert_eq!(out, data);
        assert_eq!(reader.read(&mut [0; 8]).expect("end"), 0);
    }

    #[test]
    fn an_error_arrives_after_the_bytes_read_before_it() {
        let inner = Pieces {
            data: b"abc\ndef\n".to_vec(),
            pos: 0,
            error: Some(io::ErrorKind::InvalidData),
        };
        let mut reader = ReadAhead::spawn(inner, 1000).expect("thread");
        let mut line = String::new();
        reader.read_line(&mut line).expect("first line");
        assert_eq!(line, "abc\n");
        line.clear();
        reader.read_line(&mut line).expect("second line");
        assert_eq!(line, "def\n");
        let error = reader.read_line(&mut line).expect_err("the error");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
