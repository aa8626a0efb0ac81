//! The open blocks of a stream, indexed by block index and by opening order, so that every
//! event costs O(log n) in the number of open blocks (a hostile stream may open hundreds of
//! thousands).

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub(super) struct OpenBlock {
    pub(super) index: usize,
    pub(super) block_type: String,
    pub(super) signature_seen: bool,
    pub(super) signature_in_start: bool,
}

/// The open blocks, by index and in the order they opened (each operation O(log n)).
#[derive(Debug, Default)]
pub(super) struct OpenBlocks {
    by_index: HashMap<usize, (u64, OpenBlock)>,
    /// Opening sequence number → block index.
    order: BTreeMap<u64, usize>,
    next_seq: u64,
}

impl OpenBlocks {
    pub(super) fn contains(&self, index: usize) -> bool {
        self.by_index.contains_key(&index)
    }

    pub(super) fn get(&self, index: usize) -> Option<&OpenBlock> {
        self.by_index.get(&index).map(|(_, b)| b)
    }

    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut OpenBlock> {
        self.by_index.get_mut(&index).map(|(_, b)| b)
    }

    /// Open a block (a block already open under this index is replaced).
    pub(super) fn push(&mut self, block: OpenBlock) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let index = block.index;
        if let Some((old_seq, _)) = self.by_index.insert(index, (seq, block)) {
            self.order.remove(&old_seq);
        }
        self.order.insert(seq, index);
    }

    pub(super) fn remove(&mut self, index: usize) -> Option<OpenBlock> {
        let (seq, block) = self.by_index.remove(&index)?;
        self.order.remove(&seq);
        Some(block)
    }

    /// The block opened most recently among those still open.
    pub(super) fn last(&self) -> Option<&OpenBlock> {
        let (_, index) = self.order.last_key_value()?;
        self.get(*index)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.by_index.clear();
        self.order.clear();
    }

    /// The open indices in opening order, for messages: at most 20, then how many more.
    pub(super) fn describe(&self) -> String {
        const SHOWN: usize = 20;
        let mut out: Vec<String> = self
            .order
            .values()
            .take(SHOWN)
            .map(usize::to_string)
            .collect();
        if self.order.len() > SHOWN {
            out.push(format!("and {} more", self.order.len() - SHOWN));
        }
        out.join(", ")
    }
}
