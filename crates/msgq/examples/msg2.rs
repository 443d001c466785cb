//! msg2: the textbook's message-queue sender (*Beginning Linux Programming*, ch. 14,
//! c/textbook/msg2.c), line by line in Rust: get queue 1234, send each line typed as one
//! message of type 1, stop after a line that starts with "end".
//!
//! Run: `cargo run -p ipc-msgq --example msg2`, and in another terminal
//! `cargo run -p ipc-msgq --example msg1` (or c/textbook/build/msg1, or `msgq-receiver --wire c`).
//! The full program with checks and options is `msgq-sender --wire c`.

use std::io::{self, Write};
use std::process::exit;

use ipc_msgq::textbook::{msgget, msgsnd, MyMsgSt, IPC_CREAT, MAX_TEXT};

const EXIT_FAILURE: i32 = 1;

fn main() {
    let mut running = true;
    // C: struct my_msg_st { long int my_msg_type; char some_text[MAX_TEXT]; };
    let mut some_data = MyMsgSt::<MAX_TEXT>::new();
    let mut buffer = String::new(); // C: char buffer[BUFSIZ];

    // Rust: 0o666, not 0666: Rust writes octal with 0o.
    let msgid = match msgget(1234, 0o666 | IPC_CREAT) {
        Ok(msgid) => msgid,
        Err(errno) => {
            eprintln!("msgget failed with error: {}", errno as i32);
            exit(EXIT_FAILURE);
        }
    };
    while running {
        print!("Enter some text: ");
        // Rust: flush by hand; C's stdio flushes stdout before it reads a terminal.
        let _ = io::stdout().flush();
        // C: fgets(buffer, BUFSIZ, stdin). read_line keeps the newline, as fgets does, so the
        // receiver's printf("You wrote: %s") ends the line. Rust: at the end of input (0
        // bytes) or a read error (a line that is not UTF-8, say) we stop; the C ignores
        // fgets' NULL and sends the last line for ever.
        buffer.clear();
        match io::stdin().read_line(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        some_data.my_msg_type = 1;
        // C: strcpy(some_data.some_text, buffer) writes past the 512 bytes when the line is
        // longer. Rust: the copy refuses it instead.
        if let Err(why) = some_data.strcpy(&buffer) {
            eprintln!("line too long: {why}");
            exit(EXIT_FAILURE);
        }
        // The whole buffer, MAX_TEXT bytes, whatever the text's length: the bytes after the
        // NUL travel too.
        if msgsnd(msgid, &some_data, MAX_TEXT, 0).is_err() {
            eprintln!("msgsnd failed");
            exit(EXIT_FAILURE);
        }
        if buffer.starts_with("end") {
            // C: strncmp(buffer, "end", 3) == 0
            running = false;
        }
    }
}
