//! A request body buffered as it arrives, in blocks of [`BLOCK`] bytes, each allocated once at
//! its full size.
//!
//! A buffer that grows by reallocation leaves freed copies of itself behind at every step, and
//! the process allocator keeps freed large blocks a while for reuse: 50 uploads stalled at
//! 30 MB held ~250 MB that way. In blocks, what a body holds is what it received (~150 MB for
//! the same uploads). The body is joined into one piece once it is complete.

/// The size of a block, and the part of every body that is not charged to the server-wide
/// body memory (small requests never wait for memory that stalled uploads hold).
pub(crate) const BLOCK: usize = 16 * 1024;

/// The bytes of one request body received so far.
#[derive(Debug, Default)]
pub(crate) struct BodyBuffer {
    blocks: Vec<Vec<u8>>,
    len: usize,
}

impl BodyBuffer {
    /// The memory the blocks hold.
    pub(crate) fn capacity(&self) -> usize {
        self.blocks.len() * BLOCK
    }

    /// The memory a body of `len` bytes holds.
    pub(crate) fn capacity_for(len: usize) -> usize {
        len.div_ceil(BLOCK) * BLOCK
    }

    /// Append `data`, adding blocks as needed.
    pub(crate) fn extend(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let full = self.blocks.last().is_none_or(|b| b.len() == BLOCK);
            if full {
                self.blocks.push(Vec::with_capacity(BLOCK));
            }
            if let Some(block) = self.blocks.last_mut() {
                let n = (BLOCK - block.len()).min(data.len());
                block.extend_from_slice(&data[..n]);
                data = &data[n..];
                self.len += n;
            }
        }
    }

    /// The body in one piece.
    pub(crate) fn into_vec(mut self) -> Vec<u8> {
        if self.blocks.len() <= 1 {
            return self.blocks.pop().unwrap_or_default();
        }
        let mut out = Vec::with_capacity(self.len);
        for block in self.blocks {
            out.extend_from_slice(&block);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_out_in_order_whatever_the_pieces() {
        let data: Vec<u8> = (0..(3 * BLOCK + 123)).map(|i| (i % 251) as u8).collect();
        for piece in [1, 7, BLOCK - 1, BLOCK, BLOCK + 1, data.len()] {
            let mut b = BodyBuffer::default();
            for chunk in data.chunks(piece) {
                b.extend(chunk);
            }
            assert_eq!(b.capacity(), BodyBuffer::capacity_for(data.len()));
            assert_eq!(b.into_vec(), data, "pieces of {piece}");
        }
        assert!(BodyBuffer::default().into_vec().is_empty());
        let mut small = BodyBuffer::default();
        small.extend(b"{}");
        assert_eq!(
            (small.capacity(), small.into_vec()),
            (BLOCK, b"{}".to_vec())
        );
    }
}
