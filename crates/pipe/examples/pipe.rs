//! pipe: the tutorial's pipe.c (c/textbook/pipe.c), line by line in Rust: make a pipe, fork;
//! the parent writes one word into it, the child reads the word and prints it.
//!
//! Run: `cargo run -p ipc-pipe --example pipe` and type a word (or `echo Hello | ...`).
//! The full program, with the tutorial's bugs fixed, is `pipe-demo`.

use std::fmt::Display;
use std::io;
use std::os::fd::AsRawFd;
use std::process::exit;

use ipc_pipe::pipe;
use ipc_pipe::sys::{fork, Forked};
use nix::sys::wait::waitpid;
use nix::unistd::{read, write};

/// Rust: every call's result is checked; the C checks none.
fn die(what: &str, err: impl Display) -> ! {
    eprintln!("{what}: {err}");
    exit(1);
}

fn main() {
    // C: int fd[2]; pipe(fd);  Rust: two OwnedFds, each closed when dropped.
    let (read_end, write_end) = pipe().unwrap_or_else(|err| die("pipe", err));
    println!("Pipe Created Successfully...");
    let (fd0, fd1) = (read_end.as_raw_fd(), write_end.as_raw_fd());
    println!("Descriptors are: {fd0} {fd1}");
    // Rust: println! has already written those two lines (Rust's stdout flushes at each
    // newline), so the child does not print them again. The C's stdio still holds them at the
    // fork when stdout is a pipe or a file: there, both processes print them.
    // fork() refuses unless this process has one thread: only then may the child run any code.
    match fork().unwrap_or_else(|err| die("fork", err)) {
        Forked::Parent { child } => {
            drop(read_end); // Rust: close the end we do not use (the C forgets)
            println!("Parent Process....");
            println!("Enter Data To Be Written To Pipe");
            // C: scanf("%s", buffer) reads one word. Rust: read the line, keep its first word.
            let mut line = String::new();
            io::stdin()
                .read_line(&mut line)
                .unwrap_or_else(|err| die("stdin", err));
            let buffer = line.split_whitespace().next().unwrap_or("");
            // C: write(fd[1], buffer, sizeof(buffer)) sends all 100 bytes, the garbage after
            // the word too. Rust: the word only; the child counts what it read.
            write(&write_end, buffer.as_bytes()).unwrap_or_else(|err| die("write", err));
            println!("Pipe Written Successfully..");
            drop(write_end);
            // Rust: wait for the child (the C does not: it may exit before the child prints).
            waitpid(child, None).unwrap_or_else(|err| die("waitpid", err));
        }
        Forked::Child => {
            drop(write_end); // Rust: close the end we do not use (the C forgets)
            println!("Child Process");
            let mut buffer = [0u8; 100];
            // C: n = read(fd[0], buffer, 100);
            let n = read(&read_end, &mut buffer).unwrap_or_else(|err| die("read", err));
            println!("Pipe Read Successfully");
            // C: printf("%s\n", buffer) prints up to the NUL. Rust: the n bytes read.
            println!("{}", String::from_utf8_lossy(&buffer[..n]));
        }
    }
}
