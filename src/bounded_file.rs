//! Reads the files ferry is given (HCL, saved plans, the state and its lock) only when they are
//! regular files, and never more than a cap: a FIFO would block the read, a device such as
//! /dev/zero never ends, and a huge file would take memory far beyond what it is worth.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use crate::limits::show_bytes;

/// Why a file was not read.
#[derive(Debug)]
pub enum FileProblem {
    /// Nothing at the path (a dangling symlink included).
    Missing,
    /// Something other than a regular file: "a directory", "a FIFO (named pipe)", ...
    NotRegular(&'static str),
    /// More than `limit` bytes.
    TooLarge {
        limit: u64,
    },
    /// Read as text, but not UTF-8.
    NotUtf8,
    Io(io::Error),
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::Missing => f.write_str("it does not exist"),
            FileProblem::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            FileProblem::TooLarge { limit } => write!(
                f,
                "it is larger than {}, the most ferry reads from it",
                show_bytes(*limit)
            ),
            FileProblem::NotUtf8 => f.write_str("it is not valid UTF-8 text"),
            FileProblem::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The whole content of the regular file at `path` (symlinks followed), if it holds at most
/// `limit` bytes. Checks the type before opening (opening a FIFO blocks, opening some devices
/// has effects), opens without blocking, checks the opened file again and reads at most
/// `limit + 1` bytes, so a file that grows meanwhile is refused too.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, FileProblem> {
    let meta = fs::metadata(path).map_err(from_io)?;
    check_type(&meta)?;
    let file = open_nonblocking(path).map_err(from_io)?;
    let meta = file.metadata().map_err(FileProblem::Io)?;
    check_type(&meta)?;
    if meta.len() > limit {
        return Err(FileProblem::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(FileProblem::Io)?;
    if bytes.len() as u64 > limit {
        return Err(FileProblem::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileProblem> {
    String::from_utf8(read(path, limit)?).map_err(|_| FileProblem::NotUtf8)
}

/// Whether `path` is a regular file ferry may open for reading (TLS files, which librdkafka reads
/// itself). Reads nothing.
pub fn check_readable(path: &Path) -> Result<(), FileProblem> {
    let meta = fs::metadata(path).map_err(from_io)?;
    check_type(&meta)?;
    open_nonblocking(path).map(drop).map_err(from_io)
}

/// What a file is, for a message: "a directory", "a FIFO (named pipe)", ...
pub fn kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a file"
    }
}

fn check_type(meta: &fs::Metadata) -> Result<(), FileProblem> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(FileProblem::NotRegular(kind(meta)))
    }
}

fn from_io(e: io::Error) -> FileProblem {
    if e.kind() == io::ErrorKind::NotFound {
        FileProblem::Missing
    } else {
        FileProblem::Io(e)
    }
}

/// Opens for reading; on Unix with O_NONBLOCK, so that a path swapped for a FIFO after the type
/// check cannot block the open (reads of a regular file ignore the flag).
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        fs::write(&path, b"12345").unwrap();
        assert_eq!(read(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read(&path, 4),
            Err(FileProblem::TooLarge { limit: 4 })
        ));
        assert!(matches!(
            read(&dir.path().join("b"), 5),
            Err(FileProblem::Missing)
        ));
        assert!(matches!(
            read(dir.path(), 5),
            Err(FileProblem::NotRegular("a directory"))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading() {
        assert!(matches!(
            read(Path::new("/dev/zero"), 5),
            Err(FileProblem::NotRegular("a character device"))
        ));
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read(&fifo, 5),
            Err(FileProblem::NotRegular("a FIFO (named pipe)"))
        ));
        assert!(matches!(
            check_readable(&fifo),
            Err(FileProblem::NotRegular(_))
        ));
    }
}
