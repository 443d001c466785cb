//! The ring between two real processes: this test process is one end, and a copy of this test
//! executable, re-started to run only the ignored `peer` test, is the other.
//!
//! Each test names its own ring (`/ipt-ring-PID-N`) and ends by checking that /dev/shm no longer
//! holds it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipc_common::message::checksum;
use ipc_common::{cli, signals};
use ipc_ring::{Consumer, Producer, Ring, STAGE_BYTES};
use ipc_testkit::{assert_gone, process_exists, unique_shm_name, Running, WATCHDOG};
use nix::sys::signal::Signal;

/// A ring name of this test alone, and where it shows up in /dev/shm.
fn unique_ring() -> (String, PathBuf) {
    unique_shm_name("ring")
}

/// Record number `seq` (from 1) of at most `max_len` bytes (>= 16): its number, filler bytes,
/// and the checksum of everything before it. Lengths vary, so slots are reused at every size.
fn record(seq: u64, max_len: usize, out: &mut Vec<u8>) {
    let len = 16 + (seq.wrapping_mul(7919) % (max_len as u64 - 15)) as usize;
    out.clear();
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend((8..len - 8).map(|i| (seq as usize).wrapping_mul(31).wrapping_add(i) as u8));
    let sum = checksum(out);
    out.extend_from_slice(&sum.to_le_bytes());
}

/// Checks that `bytes` is record `seq`, intact.
#[track_caller]
fn assert_record(bytes: &[u8], seq: u64) {
    assert!(
        bytes.len() >= 16,
        "record {seq} is only {} bytes",
        bytes.len()
    );
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let got_seq = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
    assert_eq!(got_seq, seq, "records out of order");
    let sum = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
    assert_eq!(checksum(body), sum, "record {seq} is corrupt");
}

/// Starts the peer process in `role` on ring `name`.
fn peer(role: &str, name: &str, vars: &[(&str, String)]) -> Running {
    let exe = std::env::current_exe().expect("the test executable");
    let mut cmd = Command::new(exe);
    cmd.args([
        "peer_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("IPT_RING_ROLE", role)
    .env("IPT_RING_NAME", name)
    .stdin(Stdio::null());
    for (key, value) in vars {
        cmd.env(key, value);
    }
    Running::start(cmd, None)
}

/// A producer peer (`role`: "produce" or "produce-in-place") that sends `count` records of at
/// most `max_len` bytes into the ring `name`, once it has attached.
fn producer(role: &str, name: &str, count: u64, max_len: usize) -> Running {
    let vars = [
        ("IPT_RING_COUNT", count.to_string()),
        ("IPT_RING_MAX_LEN", max_len.to_string()),
    ];
    let mut producer = peer(role, name, &vars);
    producer.wait_for_stderr("peer: attached", WATCHDOG);
    producer
}

fn env_num(key: &str) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The other end, run in its own process by the tests below (`IPT_RING_ROLE` says which).
#[test]
#[ignore = "the peer process the other tests start; does nothing on its own"]
fn peer_process() {
    let Ok(role) = std::env::var("IPT_RING_ROLE") else {
        return;
    };
    let code = match run_peer(&role) {
        Ok(()) => 0,
        Err(err) => {
            if signals::stop_requested() {
                eprintln!("peer: interrupted: stopped cleanly");
                130
            } else {
                eprintln!("peer: error: {err}");
                i32::from(err.exit_code())
            }
        }
    };
    std::process::exit(code);
}

fn run_peer(role: &str) -> ipc_common::Result<()> {
    signals::install()?;
    let name = std::env::var("IPT_RING_NAME").unwrap_or_default();
    let count = env_num("IPT_RING_COUNT");
    let max_len = env_num("IPT_RING_MAX_LEN").max(16) as usize;
    let mut buf = Vec::new();
    match role {
        "produce" | "produce-then-hang" | "produce-in-place" => {
            let mut tx = Producer::new(Ring::open(&name)?)?;
            eprintln!("peer: attached");
            let slot_size = tx.ring().slot_size();
            for seq in 1..=count {
                record(seq, max_len, &mut buf);
                if role == "produce-in-place" {
                    // Written straight into the slot, which holds more than the record.
                    let len = tx.send_with(slot_size, |slot| {
                        slot[..buf.len()].copy_from_slice(&buf);
                        Ok(buf.len())
                    })?;
                    assert_eq!(len, buf.len());
                } else {
                    tx.send(&buf)?;
                }
            }
            let stats = tx.stats();
            eprintln!(
                "peer: sent {count} sleeps={} wakes={}",
                stats.sleeps, stats.wakes
            );
            if role == "produce-then-hang" {
                std::thread::sleep(WATCHDOG);
            }
            tx.close()
        }
        "consume" | "consume-one-then-hang" => {
            let delay = Duration::from_micros(env_num("IPT_RING_DELAY_US"));
            let mut rx = Consumer::new(Ring::open(&name)?)?;
            eprintln!("peer: waiting");
            let mut seq = 0;
            while rx.recv(&mut buf)? {
                seq += 1;
                assert_record(&buf, seq);
                if role == "consume-one-then-hang" {
                    eprintln!("peer: got one");
                    std::thread::sleep(WATCHDOG);
                }
                std::thread::sleep(delay);
            }
            eprintln!("peer: received {seq}");
            Ok(())
        }
        other => panic!("unknown peer role {other}"),
    }
}

/// Receives records 1..=count from `rx`, checks each, then expects the end of the stream.
fn receive_all(rx: &mut Consumer, count: u64) {
    let mut buf = Vec::new();
    for seq in 1..=count {
        assert!(rx.recv(&mut buf).expect("recv"), "stream ended at {seq}");
        assert_record(&buf, seq);
    }
    assert!(
        !rx.recv(&mut buf).expect("recv at the end"),
        "more records than sent"
    );
}

#[test]
fn wraparound_keeps_order_and_every_byte() {
    // 3 slots (not a power of two), records of 16..=100 bytes: 10000 records wrap ~3333 times.
    wraps_around_intact("produce", 100, 10_000);
}

/// A producer in another process (`role`: "produce" sends copies with `send`,
/// "produce-in-place" fills slots with `send_with`, given the whole slot) and a ring of three
/// `slot_size`-byte slots: `count` records arrive intact, in order, across many laps.
fn wraps_around_intact(role: &str, slot_size: usize, count: u64) {
    let (name, file) = unique_ring();
    let ring = Ring::create(&name, slot_size, 3, cli::DEFAULT_MODE).expect("create");
    let mut rx = Consumer::new(ring).expect("consumer");
    let producer = producer(role, &name, count, slot_size);
    receive_all(&mut rx, count);
    producer.finish(WATCHDOG).assert_code(0).assert_no_panic();
    drop(rx);
    assert_gone(&file);
}

#[test]
fn records_written_in_place_wrap_around_intact() {
    // Slots larger than STAGE_BYTES: the fill writes straight into the slot.
    wraps_around_intact("produce-in-place", STAGE_BYTES + 1000, 3_000);
}

#[test]
fn small_records_written_through_the_staging_buffer_wrap_around_intact() {
    // Slots of 100 bytes: the fill writes into the producer's buffer, copied in at once.
    wraps_around_intact("produce-in-place", 100, 10_000);
}

#[test]
fn a_failed_or_overlong_fill_publishes_nothing_staged_or_in_place() {
    use ipc_common::Error;
    let (name, file) = unique_ring();
    let slot_size = 2 * STAGE_BYTES;
    let ring = Ring::create(&name, slot_size, 2, cli::DEFAULT_MODE).expect("create");
    let mut tx = Producer::new(ring).expect("producer");
    let mut rx = Consumer::new(Ring::open(&name).expect("open")).expect("consumer");
    let mut buf = Vec::new();
    let mut expected = Vec::new();
    for (seq, max_len) in [
        (1, 16),
        (2, STAGE_BYTES),
        (3, STAGE_BYTES + 1),
        (4, slot_size),
    ] {
        let err = tx
            .send_with(max_len, |_| Err(Error::new("filling", "on purpose")))
            .expect_err("the fill's error comes back");
        assert!(err.to_string().contains("on purpose"), "{err}");
        let err = tx
            .send_with(max_len, |_| Ok(max_len + 1))
            .expect_err("more than it was given");
        assert!(err.to_string().contains("claims"), "{err}");
        assert_eq!(
            tx.ring().pending(),
            0,
            "max_len {max_len}: nothing published"
        );
        // The slot is still the producer's: the next record goes into it normally.
        record(seq, max_len, &mut expected);
        let len = tx
            .send_with(max_len, |slot| {
                slot[..expected.len()].copy_from_slice(&expected);
                Ok(expected.len())
            })
            .expect("send_with after the refusals");
        assert_eq!(len, expected.len());
        assert!(rx.recv(&mut buf).expect("recv"));
        assert_record(&buf, seq);
    }
    tx.close().expect("close");
    assert!(!rx.recv(&mut buf).expect("end of stream"));
    drop(rx);
    assert_gone(&file);
}

#[test]
fn a_one_slot_ring_never_takes_its_stale_record_again() {
    // One slot: every record overwrites the last one, and after each `recv` the slot still
    // holds the record just taken. Only its stamp tells the consumer that it is stale.
    let (name, file) = unique_ring();
    let ring = Ring::create(&name, 64, 1, cli::DEFAULT_MODE).expect("create");
    let mut tx = Producer::new(ring).expect("producer");
    let mut rx = Consumer::new(Ring::open(&name).expect("open")).expect("consumer");
    let mut buf = Vec::new();
    for seq in 1..=1000 {
        record(seq, 64, &mut buf);
        tx.send(&buf).expect("send");
        assert_eq!(tx.ring().pending(), 1, "one slot: full");
        assert!(rx.recv(&mut buf).expect("recv"));
        assert_record(&buf, seq);
    }
    tx.close().expect("close");
    // The slot holds record 1000: taken already, so this is the end, not a 1001st record.
    assert_eq!(rx.recv_with(|bytes| bytes.to_vec()).expect("end"), None);
    drop(rx);
    assert_gone(&file);
}

#[test]
fn a_message_is_encoded_in_its_slot_and_decoded_in_place() {
    use ipc_common::{wire, Error, Message};
    let (name, file) = unique_ring();
    let mut tx = Producer::new(Ring::create(&name, 256, 2, cli::DEFAULT_MODE).expect("create"))
        .expect("producer");
    let mut rx = Consumer::new(Ring::open(&name).expect("open")).expect("consumer");
    for seq in 1..=5 {
        let msg = Message::payload(std::process::id(), seq, 100);
        let len = tx
            .send_with(wire::encoded_len(&msg), |slot| {
                wire::encode_into_slice(&msg, slot).map_err(|err| err.context("encoding"))
            })
            .expect("send_with");
        assert_eq!(len, wire::encoded_len(&msg));
        let got = rx
            .recv_with(wire::decode)
            .expect("recv_with")
            .expect("a record")
            .expect("decodes");
        assert_eq!(got, msg);
        assert!(got.is_intact());
    }
    // A fill that fails publishes nothing; the slot stays the producer's.
    let err = tx
        .send_with(16, |_| Err(Error::new("filling", "on purpose")))
        .expect_err("the fill's error comes back");
    assert!(err.to_string().contains("on purpose"), "{err}");
    assert_eq!(tx.ring().pending(), 0);
    // A fill that claims more than it was given is refused, and publishes nothing.
    let err = tx.send_with(16, |_| Ok(17)).expect_err("17 of 16 bytes");
    assert!(err.to_string().contains("17"), "{err}");
    assert_eq!(tx.ring().pending(), 0);
    // More than a slot is refused before the fill runs.
    let err = tx
        .send_with(257, |_| unreachable!("never called"))
        .expect_err("larger than a slot");
    assert!(err.to_string().contains("do not fit"), "{err}");
    // The stream goes on normally after the refusals.
    tx.send_with(3, |slot| {
        slot.copy_from_slice(b"end");
        Ok(3)
    })
    .expect("send_with after errors");
    let mut buf = Vec::new();
    assert!(rx.recv(&mut buf).expect("recv"));
    assert_eq!(buf, b"end");
    tx.close().expect("close");
    assert!(!rx.recv(&mut buf).expect("end of stream"));
    drop(rx);
    assert_gone(&file);
}

#[test]
fn a_full_ring_puts_the_producer_to_sleep_then_it_continues() {
    let (name, file) = unique_ring();
    let mut rx = Consumer::new(Ring::create(&name, 64, 4, cli::DEFAULT_MODE).expect("create"))
        .expect("consumer");
    let count = 50;
    let producer = producer("produce", &name, count, 64);
    // Nobody reads yet: the producer fills the 4 slots, spins, then sleeps on its futex.
    let deadline = Instant::now() + WATCHDOG;
    while !(rx.ring().pending() == 4 && rx.producer_is_sleeping()) {
        assert!(
            Instant::now() < deadline,
            "the producer never slept on a full ring"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        process_exists(producer.pid()),
        "the producer must be blocked, not finished"
    );
    assert_eq!(
        rx.ring().pending(),
        4,
        "a full ring holds exactly its slots"
    );
    // Reading frees slots; each one wakes the producer, which goes on to the end.
    receive_all(&mut rx, count);
    let done = producer.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(!done.stderr.contains("sleeps=0 "), "{}", done.stderr);
    drop(rx);
    assert_gone(&file);
}

#[test]
fn a_slow_consumer_gets_everything_and_the_producer_waits_for_it() {
    let (name, file) = unique_ring();
    let mut tx = Producer::new(Ring::create(&name, 128, 8, cli::DEFAULT_MODE).expect("create"))
        .expect("producer");
    let count = 200;
    let mut consumer = peer("consume", &name, &[("IPT_RING_DELAY_US", "500".into())]);
    consumer.wait_for_stderr("peer: waiting", WATCHDOG);
    let mut buf = Vec::new();
    for seq in 1..=count {
        record(seq, 128, &mut buf);
        tx.send(&buf).expect("send");
    }
    let stats = tx.stats();
    tx.close().expect("close");
    let done = consumer.finish(WATCHDOG);
    done.assert_code(0).assert_no_panic();
    assert!(
        done.stderr.contains(&format!("peer: received {count}")),
        "{}",
        done.stderr
    );
    // 200 records into 8 slots, read every 0.5 ms: the producer had to sleep on a full ring.
    assert!(stats.sleeps > 0, "the producer never waited: {stats:?}");
    assert_gone(&file);
}

#[test]
fn a_killed_producer_is_reported_within_a_second() {
    let (name, file) = unique_ring();
    let mut rx = Consumer::new(Ring::create(&name, 64, 8, cli::DEFAULT_MODE).expect("create"))
        .expect("consumer");
    let producer = producer("produce-then-hang", &name, 5, 64);
    let mut buf = Vec::new();
    for seq in 1..=5 {
        assert!(rx.recv(&mut buf).expect("recv"));
        assert_record(&buf, seq);
    }
    // kill -9: no Drop runs, the header still says "attached". Not reaped yet: a zombie.
    producer.signal(Signal::SIGKILL);
    let killed = Instant::now();
    let err = rx
        .recv(&mut buf)
        .expect_err("a dead producer must be an error");
    let waited = killed.elapsed();
    assert!(err.to_string().contains("died"), "{err}");
    assert!(err.hint().is_some());
    assert!(
        waited < Duration::from_secs(3),
        "noticed only after {waited:?}"
    );
    drop(producer);
    drop(rx);
    assert_gone(&file);
}

#[test]
fn a_killed_consumer_is_reported_to_a_waiting_producer() {
    let (name, file) = unique_ring();
    let mut tx = Producer::new(Ring::create(&name, 64, 2, cli::DEFAULT_MODE).expect("create"))
        .expect("producer");
    let mut consumer = peer("consume-one-then-hang", &name, &[]);
    let mut buf = Vec::new();
    record(1, 64, &mut buf);
    tx.send(&buf).expect("send 1");
    consumer.wait_for_stderr("peer: got one", WATCHDOG);
    consumer.signal(Signal::SIGKILL);
    // Two slots: records 2 and 3 fill them, record 4 waits for a consumer that is dead.
    let err = (2..=4)
        .find_map(|seq| {
            record(seq, 64, &mut buf);
            tx.send(&buf).err()
        })
        .expect("a dead consumer must be an error");
    assert!(
        err.to_string().contains("consumer") && err.to_string().contains("died"),
        "{err}"
    );
    drop(consumer);
    drop(tx);
    assert_gone(&file);
}

#[test]
fn two_million_records_arrive_intact() {
    let (name, file) = unique_ring();
    let mut rx = Consumer::new(Ring::create(&name, 64, 256, cli::DEFAULT_MODE).expect("create"))
        .expect("consumer");
    let count = 2_000_000;
    let producer = producer("produce", &name, count, 64);
    receive_all(&mut rx, count);
    producer.finish(WATCHDOG).assert_code(0).assert_no_panic();
    drop(rx);
    assert_gone(&file);
}

#[test]
fn ctrl_c_stops_a_consumer_waiting_on_an_empty_ring() {
    let (name, file) = unique_ring();
    let tx = Producer::new(Ring::create(&name, 64, 4, cli::DEFAULT_MODE).expect("create"))
        .expect("producer");
    let mut consumer = peer("consume", &name, &[]);
    consumer.wait_for_stderr("peer: waiting", WATCHDOG);
    consumer.signal(Signal::SIGINT);
    let done = consumer.finish(Duration::from_secs(5));
    done.assert_code(130).assert_no_panic();
    assert!(done.stderr.contains("interrupted"), "{}", done.stderr);
    drop(tx);
    assert_gone(&file);
}

#[test]
fn bad_names_sizes_and_second_ends_are_refused_clearly() {
    let (name, file) = unique_ring();
    let err = Ring::open(&name).expect_err("nothing there yet");
    assert!(err.to_string().contains("No such file"), "{err}");
    assert!(err.hint().is_some_and(|h| h.contains("start the side")));

    // An object of that name that is not a ring.
    std::fs::write(&file, vec![0u8; 8192]).expect("write a junk object");
    let err = Ring::open(&name).expect_err("junk is not a ring");
    assert!(err.to_string().contains("not an ipc-pairs ring"), "{err}");
    let err = Ring::create(&name, 64, 4, cli::DEFAULT_MODE).expect_err("name taken");
    assert!(err.to_string().contains("EEXIST"), "{err}");
    std::fs::remove_file(&file).expect("remove the junk");

    let mut tx = Producer::new(Ring::create(&name, 64, 4, cli::DEFAULT_MODE).expect("create"))
        .expect("producer");
    let err = tx
        .send(&[0u8; 65])
        .expect_err("a record larger than a slot");
    assert!(err.to_string().contains("do not fit"), "{err}");
    let err = Producer::new(Ring::open(&name).expect("open")).expect_err("a second producer");
    assert!(err.to_string().contains("already has"), "{err}");
    assert!(Ring::create("no-slash", 64, 4, cli::DEFAULT_MODE).is_err());
    assert!(Ring::create(&name, 0, 4, cli::DEFAULT_MODE).is_err());
    drop(tx);
    assert_gone(&file);
}

#[test]
fn records_cross_between_two_handles_in_one_process_too() {
    let (name, file) = unique_ring();
    let mut tx = Producer::new(Ring::create(&name, 32, 2, cli::DEFAULT_MODE).expect("create"))
        .expect("producer");
    let mut rx = Consumer::new(Ring::open(&name).expect("open")).expect("consumer");
    let mut buf = Vec::new();
    for seq in 1..=5 {
        record(seq, 32, &mut buf);
        tx.send(&buf).expect("send");
        assert!(rx.recv(&mut buf).expect("recv"));
        assert_record(&buf, seq);
    }
    // In place: the closure reads the slot itself, and its result comes back.
    record(6, 32, &mut buf);
    tx.send(&buf).expect("send");
    let seq = rx
        .recv_with(|bytes| {
            assert_record(bytes, 6);
            bytes.len()
        })
        .expect("recv_with");
    assert_eq!(seq, Some(buf.len()));
    tx.close().expect("close");
    assert_eq!(rx.recv_with(|bytes| bytes.len()).expect("end"), None);
    assert!(!rx.recv(&mut buf).expect("end"));
    assert!(
        !file.exists(),
        "the creator's close must have removed the name"
    );
    drop(rx);
    assert_gone(&file);
}

#[test]
fn peek_reads_each_end_from_outside_without_attaching() {
    use ipc_ring::layout::state;
    use ipc_ring::{peek, End, EndSeen};
    let (name, file) = unique_ring();
    assert_eq!(peek(&name, End::Consumer), None, "no such ring yet");
    let ring = Ring::create(&name, 64, 2, ipc_common::cli::DEFAULT_MODE).expect("create");
    let consumer = Consumer::new(ring).expect("consumer");
    let me = EndSeen {
        pid: std::process::id(),
        state: state::ATTACHED,
    };
    assert_eq!(peek(&name, End::Consumer), Some(me));
    assert!(
        !me.is_dead() && !me.went_away(),
        "we are alive and attached"
    );
    let producer = peek(&name, End::Producer).expect("a ring");
    assert_eq!((producer.pid, producer.state), (0, state::FREE));
    drop(consumer);
    assert_gone(&file);
    assert_eq!(
        peek(&name, End::Consumer),
        None,
        "removed with its consumer"
    );
}
