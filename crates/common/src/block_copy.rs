//! Copying a block of bytes (a payload, a record) without the one placement where x86's
//! `rep movsb` crawls: [`copy_block`] and [`extend_with_block`] are `copy_from_slice` and
//! `extend_from_slice` (C `memcpy`) with that case copied in pieces.
//!
//! The typed path's payload copies (crate::payload_layout) go through here: where a decoded
//! payload lands next to the bytes it is copied from is luck of the heap or of a slot's place.

/// Where `rep movsb` is slow: a destination less than this many bytes past its source,
/// modulo 4 KiB (measured slow from 1 to 15; 64 leaves a margin).
const ALIASING_WINDOW: usize = 64;

/// The most bytes one `memcpy` call copies in such a window: below the size from which
/// glibc's x86-64 memcpy switches to `rep movsb` (2 KiB and up).
const COPY_PIECE: usize = 1024;

/// True where one `memcpy` of a block from `from` to `to` would crawl.
///
/// glibc's memcpy copies 2 KiB and more with `rep movsb`, and on AMD EPYC (family 25,
/// model 17: the machine kind of issue 16) that instruction runs 25-30 times slower when the destination
/// lies 1 to 15 bytes past the source modulo 4 KiB (4K aliasing): 4 KiB took 1.2-1.8 us
/// instead of 50 ns. Where a payload lands next to the buffer it is copied from is luck (of
/// the heap, of the ring's slot), and in the bench every 4 KiB message through the POSIX
/// queue was unlucky (typed 0.5x raw). There the copy goes in pieces of 1 KiB, which glibc
/// does with its vector loop: 55 ns for 4 KiB. Elsewhere one `memcpy` stays: copying every
/// payload in pieces made the ring's typed 4 KiB stream slower (0.79x raw in a focused run,
/// against 0.89-0.95x), as its encoder writes straight into the shared slot.
fn aliased(to: *const u8, from: *const u8) -> bool {
    (to as usize).wrapping_sub(from as usize) % 4096 < ALIASING_WINDOW
}

/// Copies `src` into `dst` (of the same length): one `memcpy`, in pieces where it would crawl.
pub(crate) fn copy_block(dst: &mut [u8], src: &[u8]) {
    if !aliased(dst.as_ptr(), src.as_ptr()) {
        dst.copy_from_slice(src);
        return;
    }
    for (to, from) in dst.chunks_mut(COPY_PIECE).zip(src.chunks(COPY_PIECE)) {
        to.copy_from_slice(from);
    }
}

/// Appends `src` to `dst`: one `memcpy`, in pieces where it would crawl.
pub(crate) fn extend_with_block(dst: &mut Vec<u8>, src: &[u8]) {
    dst.reserve(src.len());
    // Where the bytes will go (an address only: nothing is read or written through it).
    let to = dst.as_ptr().wrapping_add(dst.len());
    if !aliased(to, src.as_ptr()) {
        dst.extend_from_slice(src);
        return;
    }
    for piece in src.chunks(COPY_PIECE) {
        dst.extend_from_slice(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every distance of destination past source modulo 4 KiB (in steps, and each of the
    /// aliased ones, copied in pieces), for sizes around the piece size.
    #[test]
    fn a_block_arrives_whole_at_every_distance() {
        const SOURCE: usize = 3000;
        let mut area: Vec<u8> = (0..SOURCE + 4096 + SOURCE)
            .map(|i| (i * 7 + 3) as u8)
            .collect();
        let (head, tail) = area.split_at_mut(SOURCE);
        for len in [0, 1, 1023, 1024, 1025, 2500] {
            let src = &head[..len];
            for distance in (0..4096).step_by(13).chain(0..80) {
                let offset = (distance + 4096 - SOURCE % 4096) % 4096;
                let dst = &mut tail[offset..offset + len];
                assert_eq!(
                    aliased(dst.as_ptr(), src.as_ptr()),
                    distance < ALIASING_WINDOW
                );
                dst.fill(0);
                copy_block(dst, src);
                assert_eq!(&*dst, src, "{len} bytes at distance {distance}");

                let mut vec = Vec::with_capacity(len + 4096);
                let before = (distance + 4096 - vec.as_ptr() as usize % 4096
                    + src.as_ptr() as usize % 4096)
                    % 4096;
                vec.resize(before, 0xee);
                extend_with_block(&mut vec, src);
                assert_eq!(&vec[before..], src, "{len} bytes appended");
                assert!(vec[..before].iter().all(|&b| b == 0xee));
            }
        }
    }

    #[test]
    fn only_a_destination_just_past_its_source_modulo_4_kib_counts_as_aliased() {
        let base = 0x10_0000usize;
        let at = |offset: usize| (base + offset) as *const u8;
        assert!(aliased(at(4096 + 6), at(0)));
        assert!(aliased(at(8192 + 63), at(0)));
        assert!(aliased(at(6), at(0)));
        assert!(!aliased(at(4096 + 64), at(0)));
        assert!(!aliased(at(4096 - 6), at(0)));
        assert!(!aliased(at(2048), at(0)));
    }
}
