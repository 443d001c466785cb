//! shm1.c (Beginning Linux Programming, ch. 14), line by line: the consumer. It creates the
//! textbook's segment, `struct shared_use_st { int written_by_you; char some_text[2048]; }`,
//! prints each text the producer (shm2) puts there, and removes the segment after `end`.
//!
//! Run: `cargo run -p ipc-shm --example shm1`, then `cargo run -p ipc-shm --example shm2` (or
//! c/textbook/build/shm2, or `shm-sender --wire c`) in another terminal.

use std::process::exit;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::thread::sleep;
use std::time::Duration;

use ipc_shm::shared_use::{shmat, shmctl, shmdt, shmget, SharedUseSt, IPC_CREAT, IPC_RMID};

fn main() {
    let mut running = true;
    // Rust: std has no rand(); a tiny xorshift seeded with the pid stands in for
    // srand((unsigned int)getpid()) and rand().
    let mut seed = std::process::id() | 1;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };

    let Ok(shmid) = shmget(1234, SharedUseSt::SIZE, 0o666 | IPC_CREAT) else {
        eprintln!("shmget failed");
        exit(1);
    };

    // We now make the shared memory accessible to the program.
    let Ok(shared_stuff) = shmat(shmid) else {
        eprintln!("shmat failed");
        exit(1);
    };

    // Rust: the whole 64-bit address (C's `(int)shared_memory` cuts it to 32 bits).
    println!("Memory attached at {:X}", shared_stuff.addr());

    // As shm1.c: this loses a text a producer wrote before we started (shm-receiver
    // --wire c leaves the flag alone). Rust: the flag is an atomic; Release/Acquire make the
    // text written before the flag visible with it (C's plain int promises no order).
    shared_stuff.written_by_you().store(0, Release);
    while running {
        if shared_stuff.written_by_you().load(Acquire) != 0 {
            let text = shared_stuff.some_text();
            print!("You wrote: {text}");
            sleep(Duration::from_secs(u64::from(rand() % 4))); // make the other process wait for us !
            shared_stuff.written_by_you().store(0, Release);
            if text.starts_with("end") {
                running = false;
            }
        } else {
            // Rust: C spins here at 100% CPU; a millisecond's sleep costs nothing visible.
            sleep(Duration::from_millis(1));
        }
    }

    // Lastly, the shared memory is detached and then deleted.
    if shmdt(shared_stuff).is_err() {
        eprintln!("shmdt failed");
        exit(1);
    }

    if shmctl(shmid, IPC_RMID).is_err() {
        eprintln!("shmctl(IPC_RMID) failed");
        exit(1);
    }
}
