//! The mock's deterministic randomness and signing: FNV-1a, the splitmix64 PRNG, and the keyed
//! signature of thinking blocks. Shared by generation, accounting, rendering and validation.

/// FNV-1a over `bytes`, continuing from `h`.
pub(crate) fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The splitmix64 finaliser.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small deterministic PRNG (splitmix64).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(mix64(seed ^ 0x5851_f42d_4c95_7f2d))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    pub(crate) fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// `n` base62 characters.
    pub(crate) fn base62(&mut self, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| A[(self.next_u64() % 62) as usize] as char)
            .collect()
    }
}

const SIGNING_KEY: u64 = 0x636f_6e66_6f72_6d21; // "conform!"

/// The signature of a thinking text: a keyed hash the server can recompute to verify a thinking
/// block passed back (a tampered text or signature gets a 400).
pub(crate) fn sign_thinking(seed: u64, thinking: &str) -> String {
    use base64::Engine;
    let mut bytes = vec![0x12, 0x44, 0x0a, 0x40];
    for lane in 0..8u64 {
        let h = fnv(
            SIGNING_KEY ^ mix64(seed.wrapping_add(lane)),
            thinking.as_bytes(),
        );
        bytes.extend_from_slice(&mix64(h ^ lane).to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The prefix of the test string Anthropic's models answered with `redacted_thinking` blocks
/// (`ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_…` in the prompt).
pub(crate) const REDACTED_THINKING_TRIGGER: &str =
    "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_";

/// The `data` of a `redacted_thinking` block: `payload` sealed with a keyed tag, base64, so the
/// server can tell a block it wrote from an edited one when it is passed back.
pub(crate) fn seal_redacted(seed: u64, payload: &[u8]) -> String {
    use base64::Engine;
    let mut bytes = payload.to_vec();
    let tag = fnv(SIGNING_KEY ^ mix64(seed ^ 0x7265_6461_6374), payload); // "redact"
    bytes.extend_from_slice(&mix64(tag).to_le_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Whether `data` is a `redacted_thinking` payload [`seal_redacted`] wrote with `seed`.
pub(crate) fn redacted_is_sealed(seed: u64, data: &str) -> bool {
    use base64::Engine;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) else {
        return false;
    };
    bytes.len() > 8 && seal_redacted(seed, &bytes[..bytes.len() - 8]) == data
}
