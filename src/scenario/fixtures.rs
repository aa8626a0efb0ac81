//! Fixture files (`scenarios/fixtures/NAME`): read the way a run sends them and checked the way
//! lint checks them — a regular file inside the fixtures directory once symlinks are
//! followed, of bounded size — so a fixture can never bring a file from elsewhere (or a FIFO,
//! or `/dev/zero`) into a request and a report.

use std::path::Path;

/// The largest fixture file read (an image or document sent in a request).
pub(crate) const MAX_FIXTURE_BYTES: u64 = 32 * 1024 * 1024;

/// The bytes of fixture `name` of the fixtures directory `dir`: a regular file inside `dir`
/// once symlinks are followed, of at most [`MAX_FIXTURE_BYTES`].
pub(crate) fn fixture_bytes(dir: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    let real = crate::fsutil::check_inside(dir, &dir.join(name))?;
    crate::fsutil::read_regular(&real, MAX_FIXTURE_BYTES)
}

/// Whether fixture `name` of `dir` would be read: inside `dir`, a regular file, within the
/// limit (by its reported length: lint reads nothing; the run counts what it reads).
pub(crate) fn fixture_check(dir: &Path, name: &str) -> std::io::Result<()> {
    let real = crate::fsutil::check_inside(dir, &dir.join(name))?;
    let f = crate::fsutil::open_regular(&real)?;
    if f.metadata()?.len() > MAX_FIXTURE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the file is larger than {MAX_FIXTURE_BYTES} bytes"),
        ));
    }
    Ok(())
}
