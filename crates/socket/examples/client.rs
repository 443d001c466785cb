//! client.rs: a line-by-line port of the textbook's client.c (*Beginning Linux Programming*,
//! ch. 15, c/textbook/client.c): connect to 127.0.0.1 port 9734, send the char `A`, read the
//! server's answer and print it (`char from server = B`).
//!
//! Terminal 1: `cargo run -p ipc-socket --example server` (or the textbook's server, or
//! `socket-server --wire c`)
//! Terminal 2: `cargo run -p ipc-socket --example client`
//!
//! The calls are nix's, named as in C (`socket`, `connect`, `write`, `read`, `close`); each is
//! the libc function of the same name. The full client is `socket-client --wire c --char`.

use std::os::fd::AsRawFd;
use std::process::exit;

use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use nix::unistd::{close, read, write};

// Rust: `?` ends the program with the error where the C ignored it.
fn main() -> nix::Result<()> {
    let mut ch = [b'A'];

    // Create a socket for the client.
    let sockfd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )?;

    // Name the socket, as agreed with the server.
    // C: sin_addr.s_addr = inet_addr("127.0.0.1"); sin_port = htons(9734).
    let address = SockaddrIn::new(127, 0, 0, 1, 9734);

    // Now connect our socket to the server's socket.
    let result = connect(sockfd.as_raw_fd(), &address);

    if let Err(err) = result {
        eprintln!("oops: client3: {}", err.desc()); // C: perror("oops: client3")
        exit(1);
    }

    // We can now read/write via sockfd.
    write(&sockfd, &ch)?;
    // Rust: a server that closes without answering is said so; the C printed a stale char.
    if read(&sockfd, &mut ch)? == 0 {
        eprintln!("the server closed the connection without answering");
        exit(1);
    }
    println!("char from server = {}", char::from(ch[0]));
    close(sockfd)?;
    exit(0);
}
