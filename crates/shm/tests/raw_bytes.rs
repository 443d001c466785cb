//! The raw-bytes path of the handoff (`send_bytes` of [`ShmWriter`], `receive_bytes` of [`ShmReader`])
//! between real processes: records arrive exactly as they were sent (empty, one byte, a full
//! slot), a record larger than a slot is refused without disturbing the channel, several
//! senders share one receiver in order, and nothing is left in `ipcs` afterwards.
//!
//! No program of the workspace sends raw records, so this test binary plays the sender too:
//! each test receives in its own process and starts one or more copies of this same
//! executable, which run only the ignored test [`peer_sender`] (told what to send through the
//! environment), as separate processes with their own attachment, semaphore undo list and pid.

use std::collections::HashMap;
use std::process::Command;

use ipc_common::cli::{Key, DEFAULT_MODE};
use ipc_common::receiver::Inbox;
use ipc_common::sender::Outbox;
use ipc_shm::{Channel, Layout, ShmReader, ShmWriter, UnsyncedReader};
use ipc_testkit::{assert_no_sysv_objects, unique_key, Running, WATCHDOG};

/// The environment variable that turns [`peer_sender`] on: `KEY SLOT_SIZE SLOTS ROLE...`.
const PEER: &str = "IPC_SHM_RAW_PEER";

/// What the peer prints once it is registered as a sender: from then on, a peer that dies
/// makes `receive_bytes` fail instead of waiting (the receiver sees every sender gone).
const PEER_READY: &str = "peer: registered as a sender";

/// Starts a copy of this test binary as a sender, running `peer_sender` with `spec`, and
/// waits until it has registered.
fn start_peer(spec: &str) -> Running {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "peer_sender",
        "--exact",
        "--ignored",
        "--nocapture",
        "--quiet",
    ])
    .env(PEER, spec)
    .stdin(std::process::Stdio::null());
    let mut peer = Running::start(cmd, None);
    peer.wait_for_stderr(PEER_READY, WATCHDOG);
    peer
}

/// The receiving end, created (and, when dropped, removed) by the test process.
fn receiver(key: i32, layout: Layout) -> ShmReader {
    let channel = Channel::attach(Key(key), layout, DEFAULT_MODE).expect("channel");
    ShmReader::new(channel).expect("reader")
}

/// Record `seq` of sender `id`: an 8-byte tag (id, seq) then bytes that depend on both, in
/// all, 8 to `max` bytes.
fn tagged_record(id: u32, seq: u32, max: usize) -> Vec<u8> {
    let len = 8 + (seq as usize * 131) % (max - 7);
    let mut bytes: Vec<u8> = (0..len)
        .map(|i| (i as u32 ^ seq.wrapping_mul(13) ^ id.wrapping_mul(7)) as u8)
        .collect();
    bytes[..4].copy_from_slice(&id.to_le_bytes());
    bytes[4..8].copy_from_slice(&seq.to_le_bytes());
    bytes
}

/// What the edge-case sender sends, in order (the oversized record in between is refused).
fn edge_records(max: usize) -> Vec<Vec<u8>> {
    let full: Vec<u8> = (0..max).map(|i| (i * 7 + 3) as u8).collect();
    vec![
        Vec::new(),
        vec![0x42],
        full,
        b"after the refused one".to_vec(),
    ]
}

#[test]
fn records_cross_as_they_are_empty_one_byte_and_a_full_slot() {
    let key = unique_key();
    let layout = Layout::new(256, 1).expect("layout");
    let mut rx = receiver(key, layout);
    let peer = start_peer(&format!("{key} 256 1 edge"));
    // `out` is replaced, not appended to: start it with something in it.
    let mut out = b"left over from before".to_vec();
    for want in edge_records(layout.max_message()) {
        rx.receive_bytes(&mut out).expect("a record");
        assert_eq!(
            out,
            want,
            "{} bytes sent, {} received",
            want.len(),
            out.len()
        );
    }
    let done = peer.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stderr.contains("refused: sending a record of bytes:")
            && done.stderr.contains("more than a slot of 256 bytes holds"),
        "{}",
        done.stderr
    );
    drop(rx);
    assert_no_sysv_objects(key);
}

#[test]
fn two_senders_share_one_receiver_and_each_ones_records_stay_in_order() {
    let key = unique_key();
    let (slot_size, slots, count) = (512, 4, 5000u32);
    let layout = Layout::new(slot_size, slots).expect("layout");
    let mut rx = receiver(key, layout);
    let peers =
        [1u32, 2].map(|id| start_peer(&format!("{key} {slot_size} {slots} tagged {id} {count}")));
    let mut next: HashMap<u32, u32> = HashMap::new();
    let mut out = Vec::new();
    for _ in 0..2 * count {
        rx.receive_bytes(&mut out).expect("a record");
        assert!(out.len() >= 8, "a record of {} bytes", out.len());
        let id = u32::from_le_bytes(out[..4].try_into().expect("4 bytes"));
        let seq = u32::from_le_bytes(out[4..8].try_into().expect("4 bytes"));
        let expected = next.entry(id).or_insert(0);
        assert_eq!(seq, *expected, "sender {id}: out of order");
        assert_eq!(
            out,
            tagged_record(id, seq, layout.max_message()),
            "sender {id} record {seq}"
        );
        *expected += 1;
    }
    assert_eq!(next, HashMap::from([(1, count), (2, count)]));
    for peer in peers {
        peer.finish(WATCHDOG).assert_code(0).assert_no_panic();
    }
    drop(rx);
    assert_no_sysv_objects(key);
}

#[test]
fn a_no_sync_reader_refuses_the_raw_path() {
    let key = unique_key();
    let layout = Layout::new(256, 1).expect("layout");
    let channel = Channel::attach(Key(key), layout, DEFAULT_MODE).expect("channel");
    let mut rx = UnsyncedReader::new(channel).expect("reader");
    let err = rx.receive_bytes(&mut Vec::new()).expect_err("refused");
    assert!(err.to_string().contains("--no-sync"), "{err}");
    drop(rx);
    assert_no_sysv_objects(key);
}

/// Not a test of its own: the sending process of the tests above, which start it with
/// `IPC_SHM_RAW_PEER` set to `KEY SLOT_SIZE SLOTS edge` or `KEY SLOT_SIZE SLOTS tagged ID N`.
#[test]
#[ignore = "the sending process that the other tests of this file start"]
fn peer_sender() {
    let Ok(spec) = std::env::var(PEER) else {
        return; // run by hand (--ignored): nothing to do
    };
    let words: Vec<&str> = spec.split_whitespace().collect();
    let number = |i: usize| -> u64 { words[i].parse().expect("a number") };
    let layout = Layout::new(number(1) as usize, number(2) as u32).expect("layout");
    let channel = Channel::attach(Key(number(0) as i32), layout, DEFAULT_MODE).expect("channel");
    let mut tx = ShmWriter::new(channel).expect("writer");
    eprintln!("{PEER_READY}");
    let max = layout.max_message();
    match words[3] {
        "edge" => {
            let records = edge_records(max);
            for (i, record) in records.iter().enumerate() {
                if i == 3 {
                    let err = tx.send_bytes(&vec![0; max + 1]).expect_err("too large");
                    eprintln!("refused: {err}");
                }
                tx.send_bytes(record).expect("sent");
            }
        }
        "tagged" => {
            let id = number(4) as u32;
            for seq in 0..number(5) as u32 {
                tx.send_bytes(&tagged_record(id, seq, max)).expect("sent");
            }
        }
        other => panic!("unknown peer role {other}"),
    }
    tx.finish().expect("finished");
}
