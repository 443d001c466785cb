//! A small, seeded random number generator (SplitMix64), so that a seed replays a round exactly.
//!
//! The soak must be reproducible: `SOAK_SEED` fixes every choice the harness makes (mechanism,
//! senders, sizes, fault, timing). SplitMix64 is 10 lines, has no dependencies and passes the
//! usual statistical tests; cryptographic quality is not needed here.

/// The generator: a 64-bit state advanced by a constant and scrambled on output.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high` (low <= high).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        let span = high - low;
        if span == u64::MAX {
            return self.next_u64();
        }
        low + self.next_u64() % (span + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 99) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }

    /// A size in `1..=max` spread evenly over the powers of two (log-uniform), with the two
    /// ends themselves drawn often: 1 byte and `max` are where the bugs are.
    pub fn size(&mut self, max: usize) -> usize {
        let max = max.max(1);
        match self.range(0, 9) {
            0 => 1,
            1 => max,
            _ => {
                let bits = usize::BITS - max.leading_zeros();
                let top = self.range(0, u64::from(bits));
                let high = (1u64 << top).min(max as u64);
                self.range(1, high) as usize
            }
        }
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn ranges_and_sizes_stay_inside_their_bounds_and_reach_both_ends() {
        let mut rng = Rng::new(1);
        let sizes: Vec<usize> = (0..2000).map(|_| rng.size(4000)).collect();
        assert!(sizes.iter().all(|&s| (1..=4000).contains(&s)));
        assert!(sizes.contains(&1) && sizes.contains(&4000));
        assert!(sizes.iter().any(|&s| s > 1 && s < 64));
        let values: Vec<u64> = (0..200).map(|_| rng.range(3, 5)).collect();
        assert!(values.iter().all(|v| (3..=5).contains(v)));
        assert!([3, 4, 5].iter().all(|v| values.contains(v)));
    }
}
