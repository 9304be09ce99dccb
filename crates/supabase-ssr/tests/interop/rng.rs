//! Deterministic randomness for generated inputs.

/// SplitMix64: a tiny seeded generator, so generated inputs never change.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % (n as u64)).expect("fits")
    }

    /// A string of `len` characters drawn from ASCII, controls, Latin-1, the BMP (no
    /// surrogates), and astral planes.
    pub(crate) fn string(&mut self, len: usize) -> String {
        (0..len).map(|_| self.char()).collect()
    }

    pub(crate) fn char(&mut self) -> char {
        let pick = |rng: &mut Self, lo: u32, hi: u32| {
            let span = usize::try_from(hi - lo + 1).expect("fits");
            lo + u32::try_from(rng.below(span)).expect("fits")
        };
        loop {
            let code = match self.below(10) {
                0..=3 => pick(self, 0x20, 0x7e),
                4 => pick(self, 0x00, 0x1f),
                5 => pick(self, 0x7f, 0xff),
                6 => pick(self, 0x100, 0x7ff),
                7 => pick(self, 0x800, 0xffff),
                8 => pick(self, 0x1_0000, 0x10_ffff),
                _ => {
                    let special = b";,=%+&#?/: \"\\'()*!~.-_";
                    u32::from(special[self.below(special.len())])
                }
            };
            if let Some(c) = char::from_u32(code) {
                return c;
            }
        }
    }
}
