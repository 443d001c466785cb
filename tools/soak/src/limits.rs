//! How much a round may send: the kernel's limits on one message, the harness's bounds on one
//! sender, and the largest payload whose encoded message still fits.

use ipc_common::message::Body;
use ipc_common::wire;
use ipc_common::Message;

/// Messages one sender sends at most (the ring sends more: [`RING_MAX_COUNT`]).
pub const MAX_COUNT: u64 = 20_000;

/// Messages one ring sender sends at most. The ring moves a small message in about a
/// microsecond, so [`MAX_COUNT`] of them are gone in a few milliseconds, before most faults
/// come: ten times more give a fault something to hit.
pub const RING_MAX_COUNT: u64 = 200_000;

/// The kernel limits that bound message sizes, read once from /proc.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// /proc/sys/kernel/msgmax (bytes per System V message).
    pub msgmax: usize,
    /// /proc/sys/kernel/msgmnb (bytes per System V queue).
    pub msgmnb: usize,
    /// /proc/sys/fs/mqueue/msgsize_max (bytes per POSIX message).
    pub mq_msgsize: usize,
}

impl Limits {
    /// Reads the limits; the Linux defaults where a file cannot be read.
    pub fn read() -> Limits {
        let read = |path: &str, default: usize| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .unwrap_or(default)
        };
        Limits {
            msgmax: read("/proc/sys/kernel/msgmax", 8192),
            msgmnb: read("/proc/sys/kernel/msgmnb", 16384),
            mq_msgsize: read("/proc/sys/fs/mqueue/msgsize_max", 8192),
        }
    }
}

/// The largest `--size` whose encoded message fits in `limit` bytes, for any pid and sequence
/// number (the encoding's integers are variable-length, so we assume the longest).
pub fn largest_payload(limit: usize) -> usize {
    largest_encoding_within(limit, u64::from(u32::MAX))
}

/// The largest `--size` that `shm-sender --ring --count N` (N up to [`RING_MAX_COUNT`]) accepts
/// for a ring of `slot_size`: the sender checks the encoding of its largest message before
/// it attaches (crates/ring `sender::check_source`: the last sequence number and a
/// checksum that takes all 9 bytes of its variable-length integer), for any pid.
pub fn largest_ring_payload(slot_size: usize) -> usize {
    largest_encoding_within(slot_size, RING_MAX_COUNT)
}

/// The largest payload whose Message, with sequence number `seq` and the longest pid and
/// checksum, encodes to at most `limit` bytes (a binary search over the size).
fn largest_encoding_within(limit: usize, seq: u64) -> usize {
    let fits = |size: usize| {
        let msg = Message {
            sender: u32::MAX,
            seq,
            body: Body::Payload {
                bytes: vec![0; size],
                checksum: u64::MAX,
            },
        };
        wire::encoded_len(&msg) <= limit
    };
    let (mut low, mut high) = (0, limit);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if fits(mid) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_payload_fits_and_one_more_byte_does_not() {
        for limit in [64, 4092, 8192] {
            let size = largest_payload(limit);
            let mut buf = Vec::new();
            wire::encode(
                &Message::payload(u32::MAX, u64::from(u32::MAX), size),
                &mut buf,
            )
            .expect("encodes");
            assert!(buf.len() <= limit);
            wire::encode(
                &Message::payload(u32::MAX, u64::from(u32::MAX), size + 1),
                &mut buf,
            )
            .expect("encodes");
            assert!(
                buf.len() > limit,
                "limit {limit}: {size} is not the largest"
            );
        }
    }

    #[test]
    fn the_largest_ring_payload_is_what_shm_sender_checks_for_the_last_message() {
        for slot_size in [64, 100, 1024, 4096, 65536] {
            let size = largest_ring_payload(slot_size);
            let worst = |size: usize| Message {
                sender: u32::MAX,
                seq: RING_MAX_COUNT,
                body: Body::Payload {
                    bytes: vec![0; size],
                    checksum: u64::MAX,
                },
            };
            assert!(wire::encoded_len(&worst(size)) <= slot_size);
            assert!(wire::encoded_len(&worst(size + 1)) > slot_size);
            // Any real message of the round is no longer: a smaller sequence number or
            // checksum only shortens its variable-length integers.
            let real = Message::payload(u32::MAX, RING_MAX_COUNT, size);
            assert!(wire::encoded_len(&real) <= slot_size);
        }
        // The envelope at its longest: pid 5 bytes, sequence number 5, body tag 1, length 1,
        // checksum 9 (tools/soak/README.md quotes this figure).
        assert_eq!(largest_ring_payload(64), 43);
    }
}
