//! shm2.c (Beginning Linux Programming, ch. 14), line by line: the producer. It attaches the
//! textbook's segment (creating it if shm1 has not), and puts each line typed into
//! `some_text`, waiting while the consumer has not taken the last one; `end` finishes.
//!
//! Run: `cargo run -p ipc-shm --example shm1` in one terminal, then
//! `cargo run -p ipc-shm --example shm2` (or c/textbook/build/shm2) in another.

use std::io::{self, BufRead, Write};
use std::process::exit;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::thread::sleep;
use std::time::Duration;

use ipc_shm::shared_use::{shmat, shmdt, shmget, SharedUseSt, IPC_CREAT};

fn main() {
    let mut running = true;
    let mut buffer = String::new();

    let Ok(shmid) = shmget(1234, SharedUseSt::SIZE, 0o666 | IPC_CREAT) else {
        eprintln!("shmget failed");
        exit(1);
    };

    let Ok(shared_stuff) = shmat(shmid) else {
        eprintln!("shmat failed");
        exit(1);
    };

    // Rust: the whole 64-bit address (C's `(int)shared_memory` cuts it to 32 bits).
    println!("Memory attached at {:X}", shared_stuff.addr());

    while running {
        // Rust: the flag is an atomic; Acquire pairs with the consumer's Release store of 0.
        while shared_stuff.written_by_you().load(Acquire) == 1 {
            sleep(Duration::from_secs(1));
            println!("waiting for client...");
        }
        print!("Enter some text: ");
        let _ = io::stdout().flush(); // Rust: stdout is line-buffered; C flushes before fgets
        buffer.clear();
        // Rust: C ignores fgets' NULL and loops for ever at the end of input; we stop there.
        if io::stdin().lock().read_line(&mut buffer).unwrap_or(0) == 0 {
            buffer = "end\n".to_string();
        }

        shared_stuff.set_some_text(&buffer); // strncpy(some_text, buffer, TEXT_SZ)
                                             // Release: the text is in place before the consumer can see the 1.
        shared_stuff.written_by_you().store(1, Release);

        if buffer.starts_with("end") {
            running = false;
        }
    }

    if shmdt(shared_stuff).is_err() {
        eprintln!("shmdt failed");
        exit(1);
    }
}
