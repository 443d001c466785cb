//! fifo_reader: the tutorial's named-pipe reader (c/textbook/fifo_reader.c), line by line in
//! Rust: make the FIFO /tmp/my_fifo, open it for reading, print what each read() returns,
//! stop at a text that starts with "end" (or when every writer has closed it), remove it.
//!
//! Run it first: `cargo run -p ipc-fifo --example fifo_reader`; then, in another terminal,
//! `cargo run -p ipc-fifo --example fifo_writer` (or c/textbook/build/fifo_writer, or
//! `fifo-sender --wire c`). The full program, with checks and options, is
//! `fifo-receiver --wire c`.

use std::process::exit;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{mkfifo, read, unlink};

const FIFO_NAME: &str = "/tmp/my_fifo";

fn main() {
    let mut buf = [0u8; 100];

    // C: mkfifo(FIFO_NAME, 0666). Rust writes octal with 0o. 0666 lets every user write into
    // the FIFO (the umask may take some of it away); fifo-receiver uses 0600.
    if mkfifo(FIFO_NAME, Mode::from_bits_truncate(0o666)).is_ok() {
        println!("Fifo Created Successfully...");
    }
    // C: fd = open(FIFO_NAME, O_RDONLY): waits until a writer opens the other end.
    let fd = match open(FIFO_NAME, OFlag::O_RDONLY, Mode::empty()) {
        Ok(fd) => fd,
        Err(errno) => {
            // Rust: the result is checked; the C reads from -1 and stops at once.
            eprintln!("open {FIFO_NAME}: {}", errno.desc());
            exit(1);
        }
    };
    // C: while ((n = read(fd, buf, sizeof(buf) - 1)) > 0): 0 is end-of-file, every writer
    // has closed the FIFO.
    'reading: while let Ok(n @ 1..) = read(&fd, &mut buf[..99]) {
        // C: buf[n] = '\0'; printf("Data From Named Pipe Is: %s", buf). One read() may hold
        // several texts, and the tutorial's writer ends each with a NUL ("hello\n\0"):
        // printf stops at the first NUL and the texts after it are lost. Rust: print every
        // text the read returned, each up to its NUL, as printf would print it alone.
        for text in buf[..n].split(|&b| b == 0).filter(|text| !text.is_empty()) {
            // No newline added: the writer's fgets kept one.
            print!("Data From Named Pipe Is: {}", String::from_utf8_lossy(text));
            // C: if (strncmp(buf, "end", 3) == 0) break;
            if text.starts_with(b"end") {
                break 'reading;
            }
        }
    }
    drop(fd); // C: close(fd);
              // C: unlink(FIFO_NAME). Like the C, Ctrl-C (which ends the program before this line)
              // leaves the FIFO behind; fifo-receiver removes it then too.
    if let Err(errno) = unlink(FIFO_NAME) {
        eprintln!("unlink {FIFO_NAME}: {}", errno.desc());
    }
}
