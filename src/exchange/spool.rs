//! A case's recorded exchanges while the case runs: in memory up to a limit, then spilled to a
//! temporary file, so a run of small cases creates no file per case and a huge stream still
//! never sits in memory.

use std::io::{self, Read, Write};

/// Bytes kept in memory before the spool moves to a temporary file.
pub(crate) const IN_MEMORY_LIMIT: usize = 1 << 20;

/// Where a case's exchange records are written until its result is announced.
#[derive(Debug, Default)]
pub struct Spool {
    mem: Vec<u8>,
    file: Option<(std::fs::File, tempfile::TempPath)>,
}

impl Spool {
    pub(crate) fn new() -> Spool {
        Spool::default()
    }

    /// A reader over everything written (the spool must have been flushed).
    pub(crate) fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        match &self.file {
            None => Ok(Box::new(self.mem.as_slice())),
            Some((_, path)) => Ok(Box::new(std::fs::File::open(path)?)),
        }
    }

    /// Everything written, when it is still in memory (None once spilled to a file).
    pub(crate) fn in_memory(&self) -> Option<&[u8]> {
        self.file.is_none().then_some(self.mem.as_slice())
    }

    /// Whether the records went to a temporary file.
    #[cfg(test)]
    fn spilled(&self) -> bool {
        self.file.is_some()
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && self.mem.len() + buf.len() > IN_MEMORY_LIMIT {
            let (mut f, path) = tempfile::NamedTempFile::new()?.into_parts();
            f.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some((f, path));
        }
        match &mut self.file {
            Some((f, _)) => f.write(buf),
            None => {
                self.mem.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some((f, _)) => f.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(s: &Spool) -> Vec<u8> {
        let mut out = Vec::new();
        s.reader().unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn small_spools_stay_in_memory_and_read_back_whole() {
        let mut s = Spool::new();
        s.write_all(b"one\n").unwrap();
        s.write_all(b"two\n").unwrap();
        s.flush().unwrap();
        assert!(!s.spilled());
        assert_eq!(read_all(&s), b"one\ntwo\n");
        assert_eq!(s.in_memory(), Some(&b"one\ntwo\n"[..]));
    }

    #[test]
    fn large_spools_move_to_a_file_and_lose_nothing() {
        let mut s = Spool::new();
        let line = vec![b'x'; 1000];
        let mut expected = Vec::new();
        for _ in 0..(IN_MEMORY_LIMIT / 1000 + 5) {
            s.write_all(&line).unwrap();
            expected.extend_from_slice(&line);
        }
        s.flush().unwrap();
        assert!(s.spilled());
        assert_eq!(s.in_memory(), None);
        assert_eq!(read_all(&s), expected);
    }
}
