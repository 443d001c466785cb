//! msgq-receiver: takes messages out of a message queue, prints them, and removes the queue.
//!
//! The textbook's message-queue receiver msg1.c: `msgget((key_t)1234, 0666 | IPC_CREAT)`, then
//! `msgrcv(msgid, &some_data, BUFSIZ, msg_to_receive, 0)` in a loop printing `You wrote: %s`
//! until `end`, then `msgctl(msgid, IPC_RMID, 0)`. Ours prints the same lines, then the
//! `summary:` line, and removes the queue only if it is empty: a queue that still holds
//! messages (say, of a type we did not ask for) is kept, and we say how many and how to drain it.
//!
//! With `--wire c` it takes what msg2.c sends: msgrcv into msgmax bytes (msg2's 512-byte
//! buffer, the 8192-byte BUFSIZ variant, anything up to msgmax), the text up to its NUL printed
//! without its newline (`\n` or `\r\n`), C's end rule `strncmp(text, "end", 3) == 0`; and it
//! uses a queue of ours that msg2.c created with mode 0666, with a warning.
//!
//! `--type T` has msgrcv's meaning (System V only):
//!   0    the first message, whatever its type (the default);
//!   T>0  only messages of type T, oldest first;
//!   T<0  the lowest type <= |T| first: a priority queue. With type-1 and type-3 messages
//!        waiting, `--type -3` takes every type-1 message before any type-3 one.
//! With `--posix` there is no type: mq_receive always takes the highest priority first.
//! Taken by type (T<0) or by priority, the messages of a sender that used several types or
//! priorities (`msgq-sender --type 1,3`) arrive out of the order sent: the summary counts them
//! as reordered, and that is not a failure (exit 0), since we asked for that order.
//!
//! Usage:
//!   msgq-receiver                               # System V queue, key 1234; waits for End
//!   msgq-receiver --key 0x4d2 --senders 4       # until 4 senders sent End
//!   msgq-receiver --type -3                     # priority order over types 1..3
//!   msgq-receiver --nowait                      # drain everything there and exit (IPC_NOWAIT)
//!   msgq-receiver --posix --name /ipc-pairs     # POSIX: mq_receive, mq_unlink
//!   msgq-receiver --wire c                      # from msg2.c (c/textbook) or c/build/msgq_sender
//!
//! Other end: `msgq-sender` (started before or after us). Both at once: `make demo-msgq`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::clayout::MSGQ;
use ipc_common::cli::ReceiverArgs;
use ipc_common::codec::WireArg;
use ipc_common::receiver::{run_receiver, Receiving};
use ipc_common::{program, Result};
use ipc_msgq::{Queue, QueueArgs, QueueInbox, Role};

/// Take messages out of a message queue, print each text and a summary, remove the queue.
#[derive(Debug, Parser)]
#[command(name = "msgq-receiver", version)]
struct Args {
    #[command(flatten)]
    queue: QueueArgs,
    #[command(flatten)]
    receiver: ReceiverArgs,
    /// Which messages to take (msgrcv's msgtyp): 0 any, T>0 only type T, T<0 lowest type <= |T| first
    #[arg(
        long = "type",
        value_name = "T",
        default_value_t = 0,
        allow_negative_numbers = true,
        conflicts_with = "posix"
    )]
    mtype: i64,
    /// Take everything queued (of --type) and exit instead of waiting (IPC_NOWAIT / a deadline already past)
    #[arg(long)]
    nowait: bool,
    #[command(flatten)]
    wire: WireArg,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    args.queue.check(&args.wire)?;
    let mut receiving = Receiving::new("You wrote: ", &args.receiver);
    if args.mtype < 0 || args.queue.posix {
        // msgrcv with a negative msgtyp takes the lowest type first, mq_receive the highest
        // priority first: a sender that used several types or priorities is legitimately
        // taken out of its order, so reordered messages are counted but are not a failure.
        receiving = receiving.order_not_promised();
    }
    if args.nowait {
        // A drain: everything there, from any number of senders, until the queue is empty.
        receiving = receiving.until_closed();
    }
    // The inbox is dropped before the summary: msgctl(IPC_RMID) / mq_unlink if the queue is empty.
    run_receiver(receiving, || {
        let queue = if args.nowait {
            Queue::open_existing(&args.queue, Role::Receiver, &args.wire)?
        } else {
            Some(Queue::open_or_create(
                &args.queue,
                Role::Receiver,
                &args.wire,
            )?)
        };
        let Some(queue) = queue else {
            eprintln!("msgq-receiver: nothing to drain: there is no such queue");
            return Ok(QueueInbox::nothing());
        };
        let doing = if args.nowait {
            "draining"
        } else {
            "waiting for messages on"
        };
        eprintln!("msgq-receiver: {doing} {queue}: {}", queue.details());
        Ok(QueueInbox::new(queue, args.mtype, args.nowait).speaking(args.wire.codec(&MSGQ)))
    })
}
