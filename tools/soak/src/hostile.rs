//! Hostile input: byte strings a broken or malicious peer could write, and what a receiver
//! must do with each (the oracle the hostile-input test checks the programs against).
//!
//! Five families, in equal parts: random bytes; valid frames cut short; absurd length
//! prefixes (over the limit, up to 4 GiB); valid frames with random bytes flipped; and frames
//! whose *inner* lengths lie (a text or payload claiming gigabytes inside a small frame).
//! The verdict comes from the shared decoder itself (`wire::read_frame` and `tally::Tally`),
//! so the test checks that each program does what its library says, with its clear error.

use ipc_common::tally::Tally;
use ipc_common::wire::{self, MAX_FRAME};
use ipc_common::Message;

use crate::rng::Rng;

/// What a receiver must do with one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It is a valid stream ending with End and nothing wrong: exit 0, clean summary.
    Accepted,
    /// Valid frames, then the writer closed without End: a pipe receiver fails ("ended
    /// before the sender's End"), a FIFO receiver waits for the next sender.
    EndedWithoutEnd,
    /// A frame is too large, truncated or not a Message, or the messages are inconsistent:
    /// exit 1 with `PROGRAM: error:` (or the summary's "checking what arrived").
    Rejected,
}

/// The verdict for `bytes` sent down a byte stream (pipe, FIFO, stream socket), read by a
/// receiver that expects one sender.
pub fn stream_verdict(bytes: &[u8]) -> Verdict {
    let mut input = bytes;
    let mut buf = Vec::new();
    let mut tally = Tally::new();
    loop {
        match wire::read_frame(&mut input, &mut buf) {
            Ok(Some(msg)) => {
                tally.record(&msg);
                if tally.ends() >= 1 {
                    return if tally.summary().is_clean(true) {
                        Verdict::Accepted
                    } else {
                        Verdict::Rejected
                    };
                }
            }
            Ok(None) => return Verdict::EndedWithoutEnd,
            Err(_) => return Verdict::Rejected,
        }
    }
}

/// How a stream reader's conversation with one peer ends (what a server logs for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// An End message arrived (whatever came before it was well-formed).
    End,
    /// The peer closed between two frames without an End.
    ClosedWithoutEnd,
    /// A frame was too large, truncated or not a Message: the peer is dropped.
    BadFrame,
}

/// How `bytes`, sent down a stream and then closed, end for the reader.
pub fn stream_end(bytes: &[u8]) -> StreamEnd {
    let mut input = bytes;
    let mut buf = Vec::new();
    loop {
        match wire::read_frame(&mut input, &mut buf) {
            Ok(Some(msg)) if msg.is_end() => return StreamEnd::End,
            Ok(Some(_)) => {}
            Ok(None) => return StreamEnd::ClosedWithoutEnd,
            Err(_) => return StreamEnd::BadFrame,
        }
    }
}

/// The verdict for `bytes` as one kernel message (message queue, datagram): `Rejected` when it
/// is not exactly one valid Message.
pub fn message_verdict(bytes: &[u8]) -> Verdict {
    let Ok(msg) = wire::decode(bytes) else {
        return Verdict::Rejected;
    };
    let mut tally = Tally::new();
    tally.record(&msg);
    match (tally.ends(), tally.summary().is_clean(true)) {
        (1, true) => Verdict::Accepted,
        (1, false) => Verdict::Rejected,
        _ => Verdict::EndedWithoutEnd,
    }
}

/// One valid frame of a random message (text, payload or End) with small numbers.
fn valid_frame(rng: &mut Rng) -> Vec<u8> {
    let seq = rng.range(1, 3);
    let msg = match rng.range(0, 2) {
        0 => {
            let mut text = vec![0u8; rng.size(200)];
            rng.fill(&mut text);
            Message::text(7, seq, String::from_utf8_lossy(&text).into_owned())
        }
        1 => Message::payload(7, seq, rng.size(1000)),
        _ => Message::end(7, seq),
    };
    let mut out = Vec::new();
    let _ = wire::write_frame(&mut out, &msg, &mut Vec::new());
    out
}

/// Input number `index` of the sequence drawn from `seed`, at most `max_len` bytes long
/// (a message queue takes at most msgmax bytes per message).
pub fn input(seed: u64, index: u64, max_len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut bytes = match index % 5 {
        // Random bytes, 0 to 2 KiB.
        0 => {
            let mut bytes = vec![0u8; rng.range(0, 2048) as usize];
            rng.fill(&mut bytes);
            bytes
        }
        // A valid frame cut short, or a valid frame followed by the start of another.
        1 => {
            let mut frame = valid_frame(&mut rng);
            if rng.chance(30) {
                let next = valid_frame(&mut rng);
                let cut = rng.range(1, next.len() as u64 - 1) as usize;
                frame.extend_from_slice(&next[..cut]);
            } else {
                frame.truncate(rng.range(1, frame.len() as u64 - 1) as usize);
            }
            frame
        }
        // An absurd length prefix (over MAX_FRAME, up to 4 GiB), and a few bytes.
        2 => {
            let len = match rng.range(0, 3) {
                0 => u32::MAX,
                1 => MAX_FRAME as u32 + 1,
                _ => rng.range(MAX_FRAME as u64 + 1, u64::from(u32::MAX)) as u32,
            };
            let mut bytes = len.to_le_bytes().to_vec();
            let mut tail = vec![0u8; rng.range(0, 64) as usize];
            rng.fill(&mut tail);
            bytes.extend_from_slice(&tail);
            bytes
        }
        // A valid frame with one to eight bytes changed.
        3 => {
            let mut frame = valid_frame(&mut rng);
            for _ in 0..rng.range(1, 8) {
                let at = rng.range(0, frame.len() as u64 - 1) as usize;
                frame[at] = rng.next_u64() as u8;
            }
            frame
        }
        // A small frame whose text or payload claims up to 2^64 bytes (bincode varint 0xfd:
        // a u64 follows), so a careless decoder would try to allocate it.
        _ => {
            let claim = rng.range(1 << 20, u64::MAX);
            let variant = if rng.chance(50) { 0u8 } else { 1u8 };
            let mut body = vec![7, 1, variant, 0xfd];
            body.extend_from_slice(&claim.to_le_bytes());
            let mut tail = vec![0u8; rng.range(0, 32) as usize];
            rng.fill(&mut tail);
            body.extend_from_slice(&tail);
            let mut bytes = (body.len() as u32).to_le_bytes().to_vec();
            bytes.extend_from_slice(&body);
            bytes
        }
    };
    bytes.truncate(max_len);
    bytes
}

/// The same input without its 4-byte length prefix, for a message-oriented mechanism (one
/// kernel message is one encoded Message, no prefix); random bytes are left as they are.
pub fn as_message(seed: u64, index: u64, max_len: usize) -> Vec<u8> {
    let bytes = input(seed, index, max_len + wire::FRAME_HEADER);
    if index % 5 == 0 || bytes.len() < wire::FRAME_HEADER {
        let mut bytes = bytes;
        bytes.truncate(max_len);
        return bytes;
    }
    bytes[wire::FRAME_HEADER..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_rejected_by_the_decoder_without_a_panic() {
        let mut verdicts = [0usize; 3];
        for index in 0..2000 {
            let bytes = input(1, index, 1 << 20);
            let verdict = stream_verdict(&bytes);
            verdicts[verdict as usize] += 1;
            if index % 5 == 2 || index % 5 == 4 {
                assert_eq!(verdict, Verdict::Rejected, "input {index}: {bytes:?}");
            }
            let _ = message_verdict(&as_message(1, index, 8192));
        }
        assert!(verdicts[Verdict::Rejected as usize] > 1500, "{verdicts:?}");
    }

    #[test]
    fn a_valid_stream_is_accepted() {
        let mut bytes = Vec::new();
        let mut scratch = Vec::new();
        wire::write_frame(&mut bytes, &Message::text(1, 1, "hi"), &mut scratch).expect("vec");
        assert_eq!(stream_verdict(&bytes), Verdict::EndedWithoutEnd);
        wire::write_frame(&mut bytes, &Message::end(1, 2), &mut scratch).expect("vec");
        assert_eq!(stream_verdict(&bytes), Verdict::Accepted);
        let mut one = Vec::new();
        wire::encode(&Message::end(1, 1), &mut one).expect("encodes");
        assert_eq!(message_verdict(&one), Verdict::Accepted);
    }
}
