//! fifo_writer: the tutorial's named-pipe writer (c/textbook/fifo_writer.c), line by line in
//! Rust: check that we may write to /tmp/my_fifo, open it, write each line typed, stop after
//! a line that starts with "end".
//!
//! Start the reader first (it makes the FIFO): `cargo run -p ipc-fifo --example fifo_reader`
//! (or c/textbook/build/fifo_reader, or `fifo-receiver --wire c`); then
//! `cargo run -p ipc-fifo --example fifo_writer`. The full program is `fifo-sender --wire c`.

use std::io;
use std::process::exit;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{access, write, AccessFlags};

const FIFO_NAME: &str = "/tmp/my_fifo";

fn main() {
    let mut buf = String::new();

    // C: if (access(FIFO_NAME, W_OK) == -1) { perror(FIFO_NAME); exit(1); }
    if let Err(errno) = access(FIFO_NAME, AccessFlags::W_OK) {
        eprintln!("{FIFO_NAME}: {}", errno.desc());
        exit(1);
    }
    println!("File Permissions Are OK");
    // C: fd = open(FIFO_NAME, O_WRONLY): waits until a reader opens the other end.
    let fd = match open(FIFO_NAME, OFlag::O_WRONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(errno) => {
            // Rust: the result is checked; the C writes to -1 without noticing.
            eprintln!("open {FIFO_NAME}: {}", errno.desc());
            exit(1);
        }
    };
    loop {
        println!("Enter Data To Be Written..");
        // C: fgets(buf, sizeof(buf), stdin) keeps the newline, as read_line does. Rust: at
        // the end of input we stop; the C ignores fgets' NULL and writes the last line again
        // and again. (fgets also cuts a line over 99 bytes into pieces; read_line does not.)
        buf.clear();
        match io::stdin().read_line(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        // C: write(fd, buf, strlen(buf) + 1): the text, its newline and the NUL after them,
        // "hello\n\0". The same bytes here: the tutorial's reader prints up to that NUL.
        let mut bytes = buf.as_bytes().to_vec();
        bytes.push(0);
        if let Err(errno) = write(&fd, &bytes) {
            // Rust ignores SIGPIPE: a reader that went away is the error EPIPE here, where
            // the C is killed without a word.
            eprintln!("write {FIFO_NAME}: {}", errno.desc());
            exit(1);
        }
        println!("Written Successfully...");
        // C: if (strncmp(buf, "end", 3) == 0) break;
        if buf.starts_with("end") {
            break;
        }
    }
    // C: close(fd); Rust: fd is closed when it goes out of scope, here.
}
