//! msgq-sender: puts messages into a message queue, and exits without waiting for a receiver.
//!
//! The tutorial's message-queue sender.c: `msgget((key_t)1234, 0666 | IPC_CREAT)`, then one
//! `msgsnd(msgid, &some_data, MAX_TEXT, 0)` per line typed after `Enter some text:`, until
//! `end`. Ours sends one bincode-encoded Message per kernel message, numbered so the receiver
//! can check that nothing was lost, and creates the queue with mode 0600 (not 0666).
//!
//! With `--wire c` it sends what the textbook's msg2.c sends, so msg1.c prints each text on its
//! own line: type 1, the text as `fgets` read it (newline kept) and its NUL in the whole
//! 512-byte `some_text` (or 8192 with `--c-text-size 8192`), `end\n` last; and it uses a queue
//! of ours that msg1.c or msg2.c created with their mode 0666, with a warning.
//!
//! The queue outlives this program: run the sender to the end first, start the receiver later,
//! and every message is still there. The sender never removes the queue (the receiver does),
//! except one it created itself and then failed or was stopped before putting anything in.
//!
//! Usage:
//!   msgq-sender                                  # type lines; `end` or Ctrl-D finishes
//!   msgq-sender --message hello --message world  # System V queue, key 1234, type 1
//!   msgq-sender --count 100 --size 64 --type 2   # generated messages, all of type 2
//!   msgq-sender --count 6 --type 1,3             # types 1, 3, 1, 3, ... in turn; End type 3
//!   msgq-sender --key 0x4d2 --nowait ...         # a full queue is an error, not a wait
//!   msgq-sender --posix --name /ipc-pairs --priority 5 --message hi   # POSIX: mq_send
//!   msgq-sender --wire c                         # to msg1.c / c/build/msgq_receiver
//!   msgq-sender --wire c --c-text-size 8192      # msg2.c's BUFSIZ variant
//!
//! Other end: `msgq-receiver` (same `--key`, or `--posix --name`), started before or after.
//! Both at once: `make demo-msgq`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ipc_common::cli::MessageSource;
use ipc_common::codec::WireArg;
use ipc_common::sender::{run_sender, ENTER_SOME_TEXT};
use ipc_common::{program, Error, Result};
use ipc_msgq::{CTextSize, Queue, QueueArgs, QueueOutbox, Role, MQ_PRIO_MAX};

/// Put messages into a message queue (System V by default, POSIX with --posix) and exit.
#[derive(Debug, Parser)]
#[command(name = "msgq-sender", version)]
struct Args {
    #[command(flatten)]
    queue: QueueArgs,
    #[command(flatten)]
    source: MessageSource,
    /// System V message type of every message (msgsnd's mtype, > 0); several (--type 1,3)
    /// are taken in turn, and End takes the highest
    #[arg(long = "type", value_name = "T", default_value = "1", value_delimiter = ',',
          value_parser = clap::value_parser!(i64).range(1..), conflicts_with = "posix")]
    mtype: Vec<i64>,
    /// POSIX priority of every message (mq_send's msg_prio; higher is taken first); several
    /// (--priority 0,5) are taken in turn, and End takes the lowest
    #[arg(long, value_name = "P", default_value = "0", value_delimiter = ',',
          value_parser = clap::value_parser!(u32).range(..i64::from(MQ_PRIO_MAX)), requires = "posix")]
    priority: Vec<u32>,
    /// Fail with "queue full" instead of waiting for room (IPC_NOWAIT / a deadline already past)
    #[arg(long)]
    nowait: bool,
    #[command(flatten)]
    wire: WireArg,
    /// With --wire c: the size of the C text buffer each message fills and sends whole:
    /// 512 (msg2.c's MAX_TEXT, the default) or 8192 (the common variant sized BUFSIZ)
    #[arg(long, value_name = "BYTES", value_enum)]
    c_text_size: Option<CTextSize>,
}

fn main() -> ExitCode {
    program::main(run)
}

fn run(args: &Args) -> Result<()> {
    args.queue.check(&args.wire)?;
    if args.c_text_size.is_some() && !args.wire.is_c() {
        return Err(Error::usage(
            "--c-text-size",
            "it sizes the C programs' text buffer: it needs --wire c",
        ));
    }
    let layout = args.c_text_size.unwrap_or(CTextSize::MaxText).layout();
    if args.wire.is_c() {
        layout.check_source(&args.source)?;
    }
    let queue = Queue::open_or_create(&args.queue, Role::Sender, &args.wire)?;
    let verb = if queue.created() { "created" } else { "opened" };
    eprintln!("msgq-sender: {verb} {queue}: {}", queue.details());
    let tags: Vec<i64> = if args.queue.posix {
        args.priority.iter().map(|&p| i64::from(p)).collect()
    } else {
        args.mtype.clone()
    };
    let mut outbox = QueueOutbox::new(queue, tags[0], args.nowait)
        .tagged(&tags)
        .speaking(args.wire.codec(layout));
    let sent = match run_sender(&args.source, ENTER_SOME_TEXT, &mut outbox) {
        Ok(sent) => sent,
        Err(err) => {
            // Stopped (Ctrl-C, SIGTERM) or failed after the first message: what is queued
            // stays for the receiver, and we say so (before the program's last line).
            if outbox.sent() > 0 {
                outbox.queue().tell_kept();
            }
            return Err(err);
        }
    };
    let plural = if sent.messages == 1 { "" } else { "s" };
    let queue = outbox.queue();
    let holds = queue
        .messages()
        .map(|n| format!("; it now holds {n}"))
        .unwrap_or_default();
    eprintln!(
        "msgq-sender: sent {} message{plural} and End to {queue}{holds}; exiting without waiting for a receiver",
        sent.messages
    );
    Ok(())
}
