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

use crate::block_copy::{copy_block, extend_with_block};
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
#[inline]
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
#[inline]
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
    let (bytes, checksum) = payload_of(msg)?;
    let mut header = [0u8; MAX_HEADER];
    let header_len = put_header(&mut header, msg, bytes.len());
    let mut sum = [0u8; 9];
    let sum_len = put_varint(&mut sum, checksum);
    let needed = header_len + bytes.len() + sum_len;
    let Some(dst) = dst.get_mut(..needed) else {
        return Some(Err(needed));
    };
    let (head, rest) = dst.split_at_mut(header_len);
    let (body, tail) = rest.split_at_mut(bytes.len());
    head.copy_from_slice(&header[..header_len]);
    copy_block(body, bytes);
    tail.copy_from_slice(&sum[..sum_len]);
    Some(Ok(needed))
}

/// Reads a varint in its shortest form (bincode writes no other) from the front of `bytes`;
/// returns it and the bytes after it. `None` for anything else.
#[inline]
fn take_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (&marker, rest) = bytes.split_first()?;
    let (value, width, rest) = match marker {
        0..=250 => return Some((u64::from(marker), rest)),
        251 => {
            let (value, rest) = rest.split_first_chunk::<2>()?;
            (u64::from(u16::from_le_bytes(*value)), 3, rest)
        }
        252 => {
            let (value, rest) = rest.split_first_chunk::<4>()?;
            (u64::from(u32::from_le_bytes(*value)), 5, rest)
        }
        253 => {
            let (value, rest) = rest.split_first_chunk::<8>()?;
            (u64::from_le_bytes(*value), 9, rest)
        }
        _ => return None,
    };
    // 251 followed by 7 is a longer form of 7: bincode's to judge.
    (varint_len(value) == width).then_some((value, rest))
}

/// Decodes `bytes` if they are exactly one payload message in bincode's shortest form;
/// `None` for anything else, which the caller hands to bincode.
pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
    let (sender, rest) = take_varint(bytes)?;
    let sender = u32::try_from(sender).ok()?;
    let (seq, rest) = take_varint(rest)?;
    let (&PAYLOAD_VARIANT, rest) = rest.split_first()? else {
        return None;
    };
    let (len, rest) = take_varint(rest)?;
    let (payload, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    let (checksum, rest) = take_varint(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut copy = Vec::with_capacity(payload.len());
    extend_with_block(&mut copy, payload);
    Some(Message {
        sender,
        seq,
        body: Body::Payload {
            bytes: copy,
            checksum,
        },
    })
}
