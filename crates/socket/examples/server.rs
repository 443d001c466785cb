//! server.rs: a line-by-line port of the textbook's server.c (*Beginning Linux Programming*,
//! ch. 15, c/textbook/server.c): a TCP server on port 9734 that reads one char from each
//! client, sends back that char + 1 and closes the connection, for ever.
//!
//! Terminal 1: `cargo run -p ipc-socket --example server`
//! Terminal 2: `cargo run -p ipc-socket --example client` (or the textbook's client, or
//! `socket-client --wire c --char`): it prints `char from server = B`.
//! Like the C, it never stops by itself: Ctrl-C ends it.
//!
//! The calls are nix's, named as in C (`socket`, `bind`, `listen`, `accept`, `read`, `write`,
//! `close`); each is the libc function of the same name. The full server, which serves many
//! clients at once and also takes lines of text, is `socket-server --wire c`.

use std::os::fd::AsRawFd;

use nix::sys::socket::SockaddrIn;
use nix::sys::socket::{accept, bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType};
use nix::unistd::{close, read, write};

// Rust: `?` ends the program with the error (`Error: EADDRINUSE`) where the C ignored it.
fn main() -> nix::Result<()> {
    // Remove any old socket and create an unnamed socket for the server.
    let server_sockfd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::empty(),
        None,
    )?;

    // Name the socket.
    // C: sin_addr.s_addr = htonl(INADDR_ANY); sin_port = htons(9734). SockaddrIn stores both
    // in network byte order itself.
    let server_address = SockaddrIn::new(0, 0, 0, 0, 9734);
    bind(server_sockfd.as_raw_fd(), &server_address)?;

    // Create a connection queue and wait for clients.
    listen(&server_sockfd, Backlog::new(5)?)?;
    loop {
        // Rust: ch starts at 0, so a client that closes without sending gets 1 back, where the
        // C sent whatever its uninitialised char held.
        let mut ch = [0u8; 1];

        println!("server waiting");

        // Accept a connection.
        // Rust: the client's address is not asked for (C: &client_address, &client_len).
        let client_sockfd = accept(&server_sockfd)?;

        // We can now read/write to client on client_sockfd.
        read(&client_sockfd, &mut ch)?;
        ch[0] = ch[0].wrapping_add(1); // C: ch++ (a char wraps, a u8 must be told to)
        write(&client_sockfd, &ch)?;
        close(client_sockfd)?;
    }
}
