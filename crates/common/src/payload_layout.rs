//! The bulk message, a generated [`Body::Payload`], laid out by hand in exactly the bytes
//! bincode makes of it.
//!
//! Payloads are what benchmarks and `--size` streams send by the million, and for a small one
//! bincode's serde machinery costs more than the system call: encoding and decoding a
//! 64-byte payload took about 40 and 70 ns, two thirds of the ring's typed round trip over the
//! raw one (issue 16). The layout is five fields in a row, so it is written and read here
//! directly:
//!
//! ```text
//! sender: varint | seq: varint | 1 (Body::Payload) | len: varint | len bytes | checksum: varint
//! ```
//!
//! bincode's varint (the `standard()` configuration): a value below 251 is one byte; otherwise
//! a marker byte, 251, 252 or 253, followed by the value as a little-endian u16, u32 or u64.
//!
//! Texts, End and Ack still go through bincode, and so does every byte string this reader
//! does not accept at once (a non-canonical varint, a length that runs past the end, trailing
//! bytes, another variant): bincode decides, and names the error. The tests in wire.rs check
//! that both agree on every payload and on arbitrary bytes.

use crate::message::{Body, Message};

/// `Body::Payload` is the enum's second variant: bincode writes its index, 1, as one byte.
const PAYLOAD_VARIANT: u8 = 1;

/// The most bytes a header (sender, seq, variant, length) takes: 5 + 9 + 1 + 9.
const MAX_HEADER: usize = 24;

/// The payload of `msg` and its checksum, or `None` for a Text, End or Ack.
fn payload_of(msg: &Message) -> Option<(&[u8], u64)> {
    match &msg.body {
        Body::Payload { bytes, checksum } => Some((bytes, *checksum)),
        _ => None,
    }
}

/// How many bytes bincode's varint takes for `value`.
fn varint_len(value: u64) -> usize {
    match value {
        0..=250 => 1,
        251..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Writes `value` as bincode's varint at the start of `dst`; returns the bytes used.
/// `dst` has room for [`varint_len`]`(value)` bytes.
fn put_varint(dst: &mut [u8], value: u64) -> usize {
    let len = varint_len(value);
    match len {
        1 => dst[0] = value as u8,
        3 => {
            dst[0] = 251;
            dst[1..3].copy_from_slice(&(value as u16).to_le_bytes());
        }
        5 => {
            dst[0] = 252;
            dst[1..5].copy_from_slice(&(value as u32).to_le_bytes());
        }
        _ => {
            dst[0] = 253;
            dst[1..9].copy_from_slice(&value.to_le_bytes());
        }
    }
    len
}

/// The header of `msg` (everything before the payload bytes) into `dst`; returns its length.
fn put_header(dst: &mut [u8; MAX_HEADER], msg: &Message, payload_len: usize) -> usize {
    let mut at = put_varint(dst, u64::from(msg.sender));
    at += put_varint(&mut dst[at..], msg.seq);
    dst[at] = PAYLOAD_VARIANT;
    at += 1;
    at + put_varint(&mut dst[at..], payload_len as u64)
}

/// The encoded length of a payload message; `None` for the other bodies.
pub(crate) fn encoded_len(msg: &Message) -> Option<usize> {
    let (bytes, checksum) = payload_of(msg)?;
    Some(
        varint_len(u64::from(msg.sender))
            + varint_len(msg.seq)
            + 1
            + varint_len(bytes.len() as u64)
            + bytes.len()
            + varint_len(checksum),
    )
}

/// Appends a payload message to `buf`; `None` (nothing appended) for the other bodies.
pub(crate) fn append(msg: &Message, buf: &mut Vec<u8>) -> Option<usize> {
    let (bytes, checksum) = payload_of(msg)?;
    let mut header = [0u8; MAX_HEADER];
    let header_len = put_header(&mut header, msg, bytes.len());
    let mut sum = [0u8; 9];
    let sum_len = put_varint(&mut sum, checksum);
    buf.reserve(header_len + bytes.len() + sum_len);
    buf.extend_from_slice(&header[..header_len]);
    extend_with_block(buf, bytes);
    buf.extend_from_slice(&sum[..sum_len]);
    Some(header_len + bytes.len() + sum_len)
}

/// Writes a payload message at the start of `dst`: `Some(Ok(used))`, `Some(Err(needed))` when
/// `dst` is too small (nothing written), `None` for the other bodies.
pub(crate) fn write_into(msg: &Message, dst: &mut [u8]) -> Option<Result<usize, usize>> {
    let needed = encoded_len(msg)?;
    let (bytes, checksum) = payload_of(msg)?;
    if dst.len() < needed {
        return Some(Err(needed));
    }
    let mut header = [0u8; MAX_HEADER];
    let mut at = put_header(&mut header, msg, bytes.len());
    dst[..at].copy_from_slice(&header[..at]);
    copy_block(&mut dst[at..at + bytes.len()], bytes);
    at += bytes.len();
    at += put_varint(&mut dst[at..], checksum);
    Some(Ok(at))
}

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
fn copy_block(dst: &mut [u8], src: &[u8]) {
    if !aliased(dst.as_ptr(), src.as_ptr()) {
        dst.copy_from_slice(src);
        return;
    }
    for (to, from) in dst.chunks_mut(COPY_PIECE).zip(src.chunks(COPY_PIECE)) {
        to.copy_from_slice(from);
    }
}

/// Appends `src` to `dst`: one `memcpy`, in pieces where it would crawl.
fn extend_with_block(dst: &mut Vec<u8>, src: &[u8]) {
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

/// Reads the fields of an encoded message in order.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let taken = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(taken)
    }

    /// A varint in its shortest form (bincode writes no other); `None` for anything else.
    fn varint(&mut self) -> Option<u64> {
        let (value, width) = match self.byte()? {
            small @ 0..=250 => return Some(u64::from(small)),
            251 => (
                u64::from(u16::from_le_bytes(*self.take(2)?.first_chunk()?)),
                3,
            ),
            252 => (
                u64::from(u32::from_le_bytes(*self.take(4)?.first_chunk()?)),
                5,
            ),
            253 => (u64::from_le_bytes(*self.take(8)?.first_chunk()?), 9),
            _ => return None,
        };
        // 251 followed by 7 is a longer form of 7: bincode's to judge.
        (varint_len(value) == width).then_some(value)
    }
}

/// Decodes `bytes` if they are exactly one payload message in bincode's shortest form;
/// `None` for anything else, which the caller hands to bincode.
pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
    let mut fields = Fields { bytes, at: 0 };
    let sender = u32::try_from(fields.varint()?).ok()?;
    let seq = fields.varint()?;
    if fields.byte()? != PAYLOAD_VARIANT {
        return None;
    }
    let len = usize::try_from(fields.varint()?).ok()?;
    let payload = fields.take(len)?;
    let checksum = fields.varint()?;
    if fields.at != bytes.len() {
        return None;
    }
    Some(Message {
        sender,
        seq,
        body: Body::Payload {
            bytes: {
                let mut bytes = Vec::with_capacity(len);
                extend_with_block(&mut bytes, payload);
                bytes
            },
            checksum,
        },
    })
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
