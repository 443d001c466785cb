//! The machine's limit for one copy: memcpy bandwidth, cache-hot and beyond the caches.
//!
//! `copy_from_slice` compiles to a call to the C library's `memcpy`. Cache-hot copies 16 KiB
//! (fits in L1) again and again; beyond-cache copies 256 MiB, far more than any L3.
//! Bandwidth counts the bytes copied (each is read once and written once).

use std::time::{Duration, Instant};

/// One memcpy result.
#[derive(Debug, Clone, Copy)]
pub struct Bandwidth {
    pub mib_s: f64,
}

/// Copies a `block`-byte buffer repeatedly for at least `min_time` (and at least twice),
/// returning the best of `runs` runs.
pub fn measure(block: usize, min_time: Duration, runs: usize) -> Bandwidth {
    let src: Vec<u8> = (0..block).map(|i| i as u8).collect();
    let mut dst = vec![0u8; block];
    dst.copy_from_slice(&src); // fault every page in before timing
    let mut best: f64 = 0.0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let mut copies = 0u64;
        while copies < 2 || start.elapsed() < min_time {
            dst.copy_from_slice(std::hint::black_box(&src));
            std::hint::black_box(&mut dst);
            copies += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        best = best.max(block as f64 * copies as f64 / secs / (1024.0 * 1024.0));
    }
    Bandwidth { mib_s: best }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_has_a_positive_bandwidth() {
        let bw = measure(4096, Duration::from_millis(1), 1);
        assert!(bw.mib_s > 0.0);
    }
}
