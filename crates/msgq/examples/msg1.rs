//! msg1: the textbook's message-queue receiver (*Beginning Linux Programming*, ch. 14,
//! c/textbook/msg1.c), line by line in Rust: get queue 1234, print every text until one that
//! starts with "end", then remove the queue.
//!
//! Run: `cargo run -p ipc-msgq --example msg1`, and in another terminal
//! `cargo run -p ipc-msgq --example msg2` (or c/textbook/build/msg2, or `msgq-sender --wire c`).
//! The full program with checks and a summary is `msgq-receiver --wire c`.

use std::process::exit;

use ipc_msgq::textbook::{msgctl, msgget, msgrcv, MyMsgSt, BUFSIZ, IPC_CREAT, IPC_RMID};

const EXIT_FAILURE: i32 = 1;

fn main() {
    let mut running = true;
    // C: struct my_msg_st { long int my_msg_type; char some_text[BUFSIZ]; };
    let mut some_data = MyMsgSt::<BUFSIZ>::new();
    let msg_to_receive = 0; // msgtyp 0: the first message, whatever its type

    // Rust: 0o666, not 0666: Rust writes octal with 0o. (Anyone may read and inject: the
    // textbook's mode; our full programs use 0600.)
    let msgid = match msgget(1234, 0o666 | IPC_CREAT) {
        Ok(msgid) => msgid,
        Err(errno) => {
            eprintln!("msgget failed with error: {}", errno as i32);
            exit(EXIT_FAILURE);
        }
    };
    while running {
        if let Err(errno) = msgrcv(msgid, &mut some_data, BUFSIZ, msg_to_receive, 0) {
            eprintln!("msgrcv failed with error: {}", errno as i32);
            exit(EXIT_FAILURE);
        }
        // C: printf("You wrote: %s", some_data.some_text): the text up to its NUL, with the
        // newline fgets kept in msg2, so each text ends its own line.
        print!("You wrote: {}", some_data.text());
        if some_data.text().starts_with("end") {
            // C: strncmp(some_data.some_text, "end", 3) == 0
            running = false;
        }
    }
    // Rust: no third argument: IPC_RMID takes no buffer.
    if msgctl(msgid, IPC_RMID).is_err() {
        eprintln!("msgctl(IPC_RMID) failed");
        exit(EXIT_FAILURE);
    }
    // C: exit(EXIT_SUCCESS); returning from main flushes stdout the same way.
}
