//! Transparent decompression: `.gz` files and the one file inside a `.zip`.
//!
//! Both are streamed: nothing is unpacked to disk or held whole in memory.
//! Corrupt or truncated compressed data turns into a read error that says
//! so, never a panic.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::read::{DeflateDecoder, MultiGzDecoder};

use crate::DataError;
use crate::read_ahead::ReadAhead;

/// Size of the read buffers.
pub(crate) const BUFFER_BYTES: usize = 256 * 1024;

/// How a file is packed, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// Not compressed.
    Plain,
    /// `.gz`.
    Gzip,
    /// `.zip`.
    Zip,
}

impl Container {
    /// The container a path's last extension names (case-insensitive).
    pub(crate) fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("gz") => Self::Gzip,
            Some(e) if e.eq_ignore_ascii_case("zip") => Self::Zip,
            _ => Self::Plain,
        }
    }
}

/// An opened file: its decompressed bytes, the name to use in errors
/// (`a.zip!a.csv` inside an archive) and the name of the innermost file
/// (`a.csv`), whose extension names the format.
pub(crate) struct Opened {
    pub(crate) reader: Box<dyn BufRead>,
    pub(crate) source_name: String,
    pub(crate) inner_name: String,
}

/// Opens `path`, decompressing `.gz` and `.zip`.
pub(crate) fn open(path: &Path) -> Result<Opened, DataError> {
    let display = path.display().to_string();
    let file_name = path
        .file_name()
        .map_or_else(|| display.clone(), |n| n.to_string_lossy().into_owned());
    let io_error = |error| DataError::Io {
        source_name: display.clone(),
        error,
    };
    let file = File::open(path).map_err(io_error)?;
    match Container::from_path(path) {
        Container::Plain => Ok(Opened {
            reader: Box::new(BufReader::with_capacity(BUFFER_BYTES, file)),
            source_name: display,
            inner_name: file_name,
        }),
        Container::Gzip => {
            let inner_name = file_name
                .get(..file_name.len() - 3)
                .unwrap_or(&file_name)
                .to_owned();
            let decoder = MultiGzDecoder::new(BufReader::with_capacity(BUFFER_BYTES, file));
            Ok(Opened {
                reader: inflating(Corruption {
                    inner: decoder,
                    what: "gzip",
                }),
                source_name: format!("{display}!{inner_name}"),
                inner_name,
            })
        }
        Container::Zip => open_zip(file, &display),
    }
}

/// The one file inside a zip archive, inflated as a stream.
fn open_zip(file: File, display: &str) -> Result<Opened, DataError> {
    let archive_error = |reason: String| DataError::Archive {
        source_name: display.to_owned(),
        reason,
    };
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| archive_error(format!("not a readable zip archive ({e})")))?;
    let mut found = None;
    let mut files = 0;
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| archive_error(format!("entry {index} is unreadable ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        files += 1;
        let name = entry
            .name()
            .map_err(|e| archive_error(format!("entry {index} has a bad name ({e})")))?
            .into_owned();
        found = Some((
            name,
            entry.compression(),
            entry.data_start(),
            entry.compressed_size(),
        ));
    }
    let Some((name, compression, Some(start), compressed_size)) = found.filter(|_| files == 1)
    else {
        return Err(archive_error(format!(
            "holds {files} files; expected exactly one trade file"
        )));
    };
    let mut file = archive.into_inner();
    file.seek(SeekFrom::Start(start))
        .map_err(|error| DataError::Io {
            source_name: display.to_owned(),
            error,
        })?;
    let source_name = format!("{display}!{name}");
    let raw = BufReader::with_capacity(BUFFER_BYTES, file).take(compressed_size);
    let reader: Box<dyn BufRead> = match compression {
        zip::CompressionMethod::Stored => Box::new(raw),
        // `DEFLATE` is the right value whether or not the zip crate was
        // built with its own deflate support (it is not, here).
        method if method == zip::CompressionMethod::DEFLATE => inflating(Corruption {
            inner: DeflateDecoder::new(raw),
            what: "zip (deflate)",
        }),
        other => {
            return Err(DataError::Archive {
                source_name,
                reason: format!("compression {other} is not supported; expected deflate or none"),
            });
        }
    };
    let inner_name = name.rsplit('/').next().unwrap_or(&name).to_owned();
    Ok(Opened {
        reader,
        source_name,
        inner_name,
    })
}

/// A decoder's bytes, inflated on a thread of its own a few chunks ahead
/// ([`ReadAhead`]), or on this thread when no thread can be started.
fn inflating<R: Read + Send + 'static>(decoder: R) -> Box<dyn BufRead> {
    // A failed spawn drops the decoder with the thread's closure, so the
    // reason is reported on the first read.
    match ReadAhead::spawn(decoder, BUFFER_BYTES) {
        Ok(reader) => Box::new(reader),
        Err(error) => Box::new(FailedRead(Some(error))),
    }
}

/// A reader whose first read reports why it could not start.
struct FailedRead(Option<io::Error>);

impl Read for FailedRead {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(error) => Err(io::Error::other(format!(
                "cannot start the decompression thread: {error}"
            ))),
            None => Ok(0),
        }
    }
}

impl BufRead for FailedRead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.0.take() {
            Some(error) => Err(io::Error::other(format!(
                "cannot start the decompression thread: {error}"
            ))),
            None => Ok(&[]),
        }
    }

    fn consume(&mut self, _amount: usize) {}
}

/// Turns a decoder's errors into ones that say the data is corrupt or cut
/// short, and the end of a cut-short stream into an error.
struct Corruption<R> {
    inner: R,
    what: &'static str,
}

impl<R: Read> Read for Corruption<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} data is corrupt or truncated ({error}); the file may be incomplete, download it again",
                    self.what
                ),
            )
        })
    }
}
