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
