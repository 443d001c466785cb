//! The wire format: the one bincode configuration, and length-prefixed frames for byte streams.
//!
//! Message-oriented mechanisms (message queues, shared-memory slots, datagrams) carry one
//! [`encode`]d message per kernel message. Byte streams (pipes, FIFOs, stream sockets) have no
//! message boundaries, so each encoded message is preceded by its length:
//!
//! ```text
//! +----------------------+-------------------------------+
//! | length: u32, little- | bincode 2 encoding of Message |
//! | endian (4 bytes)     | (length bytes)                |
//! +----------------------+-------------------------------+
//! ```
//!
//! Decoding never trusts the peer: a length over [`MAX_FRAME`] is refused before anything is
//! allocated, a short read is "truncated", and bytes that are not a Message are "not a valid
//! Message". bincode is unmaintained (RUSTSEC-2025-0141): it is used in this file only, so that
//! replacing it is a change to one file.

use std::fmt;
use std::io::{self, Read, Write};

use bincode::config::{Configuration, Limit, LittleEndian, Varint};

use crate::message::Message;
use crate::payload_layout;

/// The largest generated payload a sender accepts (`--size`), in bytes.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// The largest encoded message, and so the largest frame a reader accepts (payload + envelope).
pub const MAX_FRAME: usize = MAX_PAYLOAD + 4096;

/// Bytes of the length prefix in front of each frame on a byte stream.
pub const FRAME_HEADER: usize = 4;

/// The one bincode configuration: little-endian, variable-length integers, and a limit so that
/// a hostile length field inside a message cannot make the decoder allocate past [`MAX_FRAME`].
const CONFIG: Configuration<LittleEndian, Varint, Limit<MAX_FRAME>> =
    bincode::config::standard().with_limit::<MAX_FRAME>();

/// Why bytes could not be turned into a [`Message`].
#[derive(Debug)]
pub enum WireError {
    /// A frame's length prefix is larger than the limit (nothing was allocated for it).
    TooLarge { len: u64, limit: usize },
    /// The stream ended inside a frame.
    Truncated { expected: usize, got: usize },
    /// The bytes are not a valid Message.
    Invalid(String),
    /// The read or write itself failed.
    Io(io::Error),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge { len, limit } => {
                write!(
                    f,
                    "frame of {len} bytes is larger than the limit of {limit} bytes"
                )
            }
            WireError::Truncated { expected, got } => {
                write!(f, "truncated frame: expected {expected} bytes, got {got}")
            }
            WireError::Invalid(why) => write!(f, "not a valid Message: {why}"),
            WireError::Io(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for WireError {}

impl WireError {
    /// Turns this into the workspace's error, saying `what` we were reading.
    pub fn context(self, what: impl Into<String>) -> crate::Error {
        match self {
            WireError::Io(err) => crate::signals::io_context(err, what),
            other => crate::Error::new(what, other.to_string()),
        }
    }
}

/// Replaces the contents of `buf` with the encoding of `msg`.
pub fn encode(msg: &Message, buf: &mut Vec<u8>) -> Result<(), WireError> {
    buf.clear();
    if payload_layout::append(msg, buf).is_some() {
        return Ok(());
    }
    bincode::serde::encode_into_std_write(msg, buf, CONFIG)
        .map(drop)
        .map_err(|err| WireError::Invalid(err.to_string()))
}

/// Encodes `msg` straight into `dst` (a shared-memory slot, say: no scratch buffer and no
/// second copy) and returns how many bytes it used. Fails, leaving `dst` partly written, if
/// `dst` is too small; [`encoded_len`] says beforehand how much is needed.
pub fn encode_into_slice(msg: &Message, dst: &mut [u8]) -> Result<usize, WireError> {
    if let Some(written) = payload_layout::write_into(msg, dst) {
        return written.map_err(|needed| WireError::TooLarge {
            len: needed as u64,
            limit: dst.len(),
        });
    }
    bincode::serde::encode_into_slice(msg, dst, CONFIG).map_err(|err| match err {
        bincode::error::EncodeError::UnexpectedEnd => WireError::TooLarge {
            len: encoded_len(msg) as u64,
            limit: dst.len(),
        },
        other => WireError::Invalid(other.to_string()),
    })
}

/// How many bytes [`encode`] makes of `msg`, counted without copying the payload.
pub fn encoded_len(msg: &Message) -> usize {
    if let Some(len) = payload_layout::encoded_len(msg) {
        return len;
    }
    let mut size = bincode::enc::write::SizeWriter::default();
    match bincode::serde::encode_into_writer(msg, &mut size, CONFIG) {
        Ok(()) => size.bytes_written,
        Err(_) => usize::MAX, // over the configured limit: fits nowhere
    }
}

/// Decodes exactly one message from `bytes`; trailing bytes are an error.
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    if bytes.len() > MAX_FRAME {
        return Err(WireError::TooLarge {
            len: bytes.len() as u64,
            limit: MAX_FRAME,
        });
    }
    if let Some(msg) = payload_layout::decode(bytes) {
        return Ok(msg);
    }
    let (msg, used): (Message, usize) =
        bincode::serde::decode_from_slice(bytes, CONFIG).map_err(|err| match err {
            bincode::error::DecodeError::UnexpectedEnd { additional } => WireError::Truncated {
                expected: bytes.len() + additional,
                got: bytes.len(),
            },
            other => WireError::Invalid(other.to_string()),
        })?;
    if used != bytes.len() {
        return Err(WireError::Invalid(format!(
            "{} bytes left over after the message",
            bytes.len() - used
        )));
    }
    Ok(msg)
}

/// Writes `msg` as one frame (length prefix + encoding) to `out`. `scratch` is reused between
/// calls so that a stream of messages allocates once.
pub fn write_frame(out: &mut impl Write, msg: &Message, scratch: &mut Vec<u8>) -> io::Result<()> {
    scratch.clear();
    append_frame(msg, scratch)?;
    out.write_all(scratch)
}

/// Appends `msg` as one frame (length prefix + encoding) to `buf`, encoding it in place.
pub fn append_frame(msg: &Message, buf: &mut Vec<u8>) -> io::Result<()> {
    let start = buf.len();
    buf.extend_from_slice(&[0; FRAME_HEADER]);
    let encoded = match payload_layout::append(msg, buf) {
        Some(len) => Ok(len),
        None => bincode::serde::encode_into_std_write(msg, &mut *buf, CONFIG)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string())),
    }
    .and_then(|len| {
        u32::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))
    });
    match encoded {
        Ok(len) => {
            buf[start..start + FRAME_HEADER].copy_from_slice(&len.to_le_bytes());
            Ok(())
        }
        Err(err) => {
            buf.truncate(start);
            Err(err)
        }
    }
}

/// The body length announced by the frame that starts `pending`: `None` while fewer than
/// [`FRAME_HEADER`] bytes are there, an error if it is over [`MAX_FRAME`].
pub fn frame_length(pending: &[u8]) -> Result<Option<usize>, WireError> {
    let Some(header) = pending.first_chunk::<FRAME_HEADER>() else {
        return Ok(None);
    };
    let len = u32::from_le_bytes(*header) as usize;
    if len > MAX_FRAME {
        return Err(WireError::TooLarge {
            len: len as u64,
            limit: MAX_FRAME,
        });
    }
    Ok(Some(len))
}

/// Reads one frame from `input` into `buf` and decodes it.
///
/// Returns `Ok(None)` when the stream ends cleanly between frames (the writer closed).
pub fn read_frame(input: &mut impl Read, buf: &mut Vec<u8>) -> Result<Option<Message>, WireError> {
    let mut header = [0u8; FRAME_HEADER];
    let got = read_full(input, &mut header)?;
    if got == 0 {
        return Ok(None);
    }
    if got < FRAME_HEADER {
        return Err(WireError::Truncated {
            expected: FRAME_HEADER,
            got,
        });
    }
    let len = frame_length(&header)?.unwrap_or_default();
    let got = read_body(input, buf, len)?;
    if got < len {
        return Err(WireError::Truncated { expected: len, got });
    }
    decode(&buf[..len]).map(Some)
}

/// Reads the `len` bytes of a frame's body into `buf[..len]`; returns how many arrived (fewer
/// if the stream ended). Reads go straight into `buf`: a large read through a `BufReader` whose
/// buffer is empty bypasses that buffer, so a big frame is copied once, kernel to `buf`.
///
/// `buf` keeps its length between frames, so frames of the same size never zero it again; it
/// grows (doubling, from 64 KiB) only as bytes arrive, never to the length the peer merely
/// claims: a peer that announces 16 MiB and sends 7 bytes costs us 64 KiB, not 16 MiB.
fn read_body(input: &mut impl Read, buf: &mut Vec<u8>, len: usize) -> Result<usize, WireError> {
    const FIRST_STEP: usize = 64 * 1024;
    let mut filled = 0;
    while filled < len {
        if filled == buf.len() {
            let grown = (buf.len() * 2).max(FIRST_STEP).min(len);
            buf.resize(grown, 0);
        }
        let end = buf.len().min(len);
        match input.read(&mut buf[filled..end]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(WireError::Io(err)),
        }
    }
    Ok(filled)
}

/// Reads until `buf` is full or the stream ends; returns how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, WireError> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(WireError::Io(err)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Body;
    use proptest::prelude::*;

    fn framed(msg: &Message) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, msg, &mut Vec::new()).expect("write to a Vec");
        out
    }

    #[test]
    fn round_trip_of_each_body() {
        for msg in [
            Message::text(1, 1, "hello, wörld"),
            Message::payload(2, 9, 4096),
            Message::end(3, 10),
        ] {
            let bytes = framed(&msg);
            let back = read_frame(&mut bytes.as_slice(), &mut Vec::new()).expect("decodes");
            assert_eq!(back, Some(msg));
        }
    }

    #[test]
    fn encoding_into_a_slice_matches_encode_and_refuses_a_short_slice() {
        for msg in [Message::text(1, 1, "slot"), Message::payload(2, 3, 5000)] {
            let mut vec = Vec::new();
            encode(&msg, &mut vec).expect("encodes");
            assert_eq!(encoded_len(&msg), vec.len());
            let mut slot = vec![0u8; vec.len() + 10];
            let used = encode_into_slice(&msg, &mut slot).expect("fits");
            assert_eq!(&slot[..used], &vec[..]);
            let short = encode_into_slice(&msg, &mut slot[..vec.len() - 1]);
            assert!(
                matches!(short, Err(WireError::TooLarge { len, .. }) if len == vec.len() as u64),
                "{short:?}"
            );
        }
    }

    #[test]
    fn a_payload_is_one_block_not_one_varint_per_byte() {
        let msg = Message::payload(1, 1, 1000);
        let mut buf = Vec::new();
        encode(&msg, &mut buf).expect("encodes");
        // 1000 bytes + a few bytes of envelope; byte-by-byte varints would need up to 2000.
        assert!(buf.len() < 1000 + 32, "encoded to {} bytes", buf.len());
    }

    #[test]
    fn every_truncation_point_is_an_error_never_a_panic() {
        for msg in [
            Message::text(1, 1, "truncate me"),
            Message::payload(1, 2, 300),
        ] {
            let bytes = framed(&msg);
            for cut in 1..bytes.len() {
                let result = read_frame(&mut &bytes[..cut], &mut Vec::new());
                assert!(
                    matches!(result, Err(WireError::Truncated { .. })),
                    "cut at {cut}: {result:?}"
                );
            }
            assert!(matches!(
                read_frame(&mut &bytes[..0], &mut Vec::new()),
                Ok(None)
            ));
        }
    }

    #[test]
    fn an_oversize_prefix_is_refused_before_allocating() {
        let bytes = u32::MAX.to_le_bytes();
        let mut buf = Vec::new();
        let result = read_frame(&mut bytes.as_slice(), &mut buf);
        assert!(
            matches!(result, Err(WireError::TooLarge { len, .. }) if len == u64::from(u32::MAX))
        );
        assert_eq!(buf.capacity(), 0, "nothing allocated for the refused frame");
    }

    #[test]
    fn a_claimed_length_is_not_allocated_before_its_bytes_arrive() {
        let mut bytes = (MAX_FRAME as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"7 bytes");
        let mut buf = Vec::new();
        let result = read_frame(&mut bytes.as_slice(), &mut buf);
        assert!(
            matches!(result, Err(WireError::Truncated { got: 7, .. })),
            "{result:?}"
        );
        assert!(
            buf.capacity() <= 64 * 1024,
            "allocated {} bytes",
            buf.capacity()
        );
    }

    #[test]
    fn a_hostile_length_inside_a_small_frame_is_refused() {
        // Variant 1 (Payload) claiming a byte block of 2^60 bytes, inside a 16-byte frame.
        let mut body = vec![0x01, 0x01, 0x01, 0xfd];
        body.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(decode(&body).is_err());
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut buf = Vec::new();
        encode(&Message::end(1, 1), &mut buf).expect("encodes");
        buf.push(0);
        assert!(matches!(decode(&buf), Err(WireError::Invalid(_))));
    }

    fn any_message() -> impl Strategy<Value = Message> {
        let body = prop_oneof![
            ".*".prop_map(Body::Text),
            proptest::collection::vec(any::<u8>(), 0..2000).prop_map(|bytes| Body::Payload {
                checksum: crate::message::checksum(&bytes),
                bytes
            }),
            Just(Body::End),
            Just(Body::Ack),
        ];
        (any::<u32>(), any::<u64>(), body).prop_map(|(sender, seq, body)| Message {
            sender,
            seq,
            body,
        })
    }

    /// What bincode itself makes of `msg`: the reference for payload_layout.rs.
    fn bincode_bytes(msg: &Message) -> Vec<u8> {
        bincode::serde::encode_to_vec(msg, CONFIG).expect("bincode encodes")
    }

    /// What bincode itself decodes `bytes` to, if exactly one message.
    fn bincode_message(bytes: &[u8]) -> Option<Message> {
        let (msg, used): (Message, usize) =
            bincode::serde::decode_from_slice(bytes, CONFIG).ok()?;
        (used == bytes.len()).then_some(msg)
    }

    /// Numbers on both sides of every varint width (250/251, 65535/65536, 2^32-1/2^32).
    fn any_number() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            240u64..262,
            65530u64..65542,
            (1u64 << 32) - 6..(1u64 << 32) + 6,
        ]
    }

    fn any_payload() -> impl Strategy<Value = Message> {
        (
            any_number(),
            any_number(),
            prop_oneof![0usize..300, 65530usize..65540],
            any_number(),
        )
            .prop_map(|(sender, seq, len, checksum)| Message {
                sender: sender as u32,
                seq,
                body: Body::Payload {
                    bytes: crate::message::generated_bytes(seq, len),
                    checksum,
                },
            })
    }

    #[test]
    fn a_longer_varint_form_is_left_to_bincode() {
        let short = bincode_bytes(&Message::payload(7, 1, 16));
        // sender 7 written as 251 + u16: not bincode's form, so the hand reader declines it.
        let mut long = vec![251, 7, 0];
        long.extend_from_slice(&short[1..]);
        assert!(crate::payload_layout::decode(&long).is_none());
        assert_eq!(decode(&long).ok(), bincode_message(&long));
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(msg in any_message()) {
            let bytes = framed(&msg);
            let back = read_frame(&mut bytes.as_slice(), &mut Vec::new()).expect("decodes");
            prop_assert_eq!(back, Some(msg));
        }

        #[test]
        fn payloads_are_laid_out_byte_for_byte_as_bincode_does(msg in any_payload()) {
            let reference = bincode_bytes(&msg);
            let mut ours = Vec::new();
            encode(&msg, &mut ours).expect("encodes");
            prop_assert_eq!(&ours, &reference);
            prop_assert_eq!(encoded_len(&msg), reference.len());
            let mut slot = vec![0u8; reference.len()];
            prop_assert_eq!(encode_into_slice(&msg, &mut slot).expect("fits"), reference.len());
            prop_assert_eq!(&slot, &reference);
            prop_assert!(encode_into_slice(&msg, &mut slot[1..]).is_err(), "one byte short");
            prop_assert_eq!(crate::payload_layout::decode(&reference), Some(msg.clone()));
            let framed = framed(&msg);
            prop_assert_eq!(&framed[FRAME_HEADER..], &reference[..]);
        }

        #[test]
        fn the_hand_reader_accepts_only_what_bincode_decodes_the_same(
            msg in any_payload(),
            at in any::<prop::sample::Index>(),
            value in any::<u8>(),
            cut in 0usize..3,
        ) {
            let mut bytes = bincode_bytes(&msg);
            let at = at.index(bytes.len());
            bytes[at] = value;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            if cut == 2 {
                bytes.push(value); // a byte too many
            }
            if let Some(ours) = crate::payload_layout::decode(&bytes) {
                prop_assert_eq!(Some(ours), bincode_message(&bytes));
            }
            prop_assert_eq!(decode(&bytes).ok(), bincode_message(&bytes));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            let _ = read_frame(&mut bytes.as_slice(), &mut Vec::new());
        }

        #[test]
        fn consecutive_frames_come_back_in_order(msgs in proptest::collection::vec(any_message(), 0..8)) {
            let mut stream = Vec::new();
            let mut scratch = Vec::new();
            for msg in &msgs {
                write_frame(&mut stream, msg, &mut scratch).expect("write to a Vec");
            }
            let mut input = stream.as_slice();
            let mut buf = Vec::new();
            for msg in &msgs {
                let back = read_frame(&mut input, &mut buf).expect("decodes");
                prop_assert_eq!(back.as_ref(), Some(msg));
            }
            prop_assert!(read_frame(&mut input, &mut buf).expect("clean end").is_none());
        }
    }
}
