//! [`QueueOutbox`]: how msgq-sender (and ipc-bench) put messages into either kind of queue.
//!
//! One message is one kernel message: the [`Codec`] chosen by `--wire` encodes it (our bincode
//! Message, or the C programs' text and NUL), and one `msgsnd` (System V, with the message
//! type) or `mq_send` (POSIX, with the priority) puts it in. The raw path,
//! [`Outbox::send_bytes`], skips the codec.

use nix::libc::c_long;

use ipc_common::clayout::{self, is_c_end};
use ipc_common::codec::Codec;
use ipc_common::message::Body;
use ipc_common::sender::Outbox;
use ipc_common::{wire, Error, Message, Result};

use crate::queue::Queue;
use crate::MQ_PRIO_MAX;

/// The sender's [`Outbox`]: one msgsnd (type `tag`) or mq_send (priority `tag`) per message.
///
/// With several tags ([`QueueOutbox::tagged`]) the messages take them in turn, and End takes
/// the one a receiver that orders by tag takes last (the highest type, the lowest priority),
/// so it comes after every message of this sender, whatever order they are taken in.
#[derive(Debug)]
pub struct QueueOutbox {
    queue: Queue,
    codec: Codec,
    /// System V message types (> 0), or POSIX priorities, taken in turn; never empty.
    tags: Vec<c_long>,
    nowait: bool,
    /// The encoded message, reused from one send to the next.
    record: Vec<u8>,
    sent: u64,
}

impl QueueOutbox {
    /// Sends our bincode Messages into `queue` (a [`MsgQueue`](crate::MsgQueue), a
    /// [`PosixQueue`](crate::PosixQueue) or a [`Queue`]) with System V type / POSIX priority
    /// `tag`; `nowait` makes a full queue an error instead of a wait.
    pub fn new(queue: impl Into<Queue>, tag: c_long, nowait: bool) -> Self {
        QueueOutbox {
            queue: queue.into(),
            codec: Codec::Bincode,
            tags: vec![tag],
            nowait,
            record: Vec::new(),
            sent: 0,
        }
    }

    /// Encodes each message with `codec` instead (`--wire c`: `WireArg::codec(&clayout::MSGQ)`).
    #[must_use]
    pub fn speaking(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Gives the messages the types (System V) or priorities (POSIX) `tags` in turn: the
    /// first message the first tag, the second the second, and so on round. End takes the tag
    /// a receiver that orders by tag takes last (the highest type: `msgrcv` with a negative
    /// msgtyp takes the lowest type first; the lowest priority: `mq_receive` takes the highest
    /// first). An empty `tags` keeps the one tag given to [`QueueOutbox::new`].
    #[must_use]
    pub fn tagged(mut self, tags: &[c_long]) -> Self {
        if !tags.is_empty() {
            self.tags = tags.to_vec();
        }
        self
    }

    /// The tag of the next message (`end`: of End).
    fn tag(&self, end: bool) -> c_long {
        let last = match self.queue {
            Queue::SystemV(_) => self.tags.iter().max(),
            Queue::Posix(_) => self.tags.iter().min(),
        };
        if end {
            *last.unwrap_or(&self.tags[0])
        } else {
            // sent < len fits in usize: the remainder of a division by a Vec's length.
            self.tags[(self.sent % self.tags.len() as u64) as usize]
        }
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// Messages sent so far, End included.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// After each message: from the first one on, the queue holds data a receiver is owed,
    /// so it is never removed by us.
    fn count_one(&mut self) {
        if self.sent == 0 {
            self.queue.remove_when_done(false);
        }
        self.sent += 1;
    }
}

impl Outbox for QueueOutbox {
    /// C: `msgsnd(id, &buf, len, 0)` (System V; our encoding written straight into `buf`) or
    /// `mq_send(mqd, buf, len, prio)` (POSIX, from the reused record the message is encoded into).
    fn send(&mut self, msg: &Message) -> Result<()> {
        if let (Codec::C(decoder), Body::Text(text)) = (&self.codec, &msg.body) {
            // A stdin line too long for the C buffer (a --message is refused before we start).
            let layout = decoder.layout();
            if let Err(why) = layout.check_text(text) {
                let hint = if layout.size < clayout::MSGQ_BUFSIZ.size {
                    "shorten the line, or send the BUFSIZ variant (--c-text-size 8192) to a receiver with a BUFSIZ buffer, as msg1.c has"
                } else {
                    "shorten the line"
                };
                return Err(Error::new(format!("sending line {}", msg.seq), why).with_hint(hint));
            }
        }
        let tag = self.tag(matches!(msg.body, Body::End));
        match (&mut self.queue, &self.codec) {
            // Our encoding goes straight into the struct msgbuf that msgsnd sends from.
            (Queue::SystemV(queue), Codec::Bincode) => {
                queue.send_with(wire::encoded_len(msg), tag, self.nowait, |text| {
                    wire::encode_into_slice(msg, text)
                        .map_err(|err| err.context("encoding a message"))
                })?
            }
            (queue, codec) => {
                codec.encode(msg, &mut self.record)?;
                match queue {
                    Queue::SystemV(queue) => queue.send(&self.record, tag, self.nowait)?,
                    Queue::Posix(queue) => queue.send(&self.record, priority(tag)?, self.nowait)?,
                }
            }
        }
        self.count_one();
        Ok(())
    }

    /// In the C layout a text that starts with `end` (say `endless`) is the last one sent, as
    /// in msg2.c: C receivers stop at it (`strncmp(text, "end", 3) == 0`), so what would
    /// follow, End included, would only be left in the queue.
    fn ends_conversation(&self, text: &str) -> bool {
        matches!(self.codec, Codec::C(_)) && is_c_end(text.as_bytes())
    }

    /// The raw path: `bytes` as one kernel message, no codec.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let tag = self.tag(false);
        match &mut self.queue {
            Queue::SystemV(queue) => queue.send(bytes, tag, self.nowait)?,
            Queue::Posix(queue) => queue.send(bytes, priority(tag)?, self.nowait)?,
        }
        self.count_one();
        Ok(())
    }
}

/// `tag` as a POSIX priority: 0 to `MQ_PRIO_MAX - 1`.
fn priority(tag: c_long) -> Result<u32> {
    u32::try_from(tag)
        .ok()
        .filter(|p| *p < MQ_PRIO_MAX)
        .ok_or_else(|| {
            Error::usage(
                format!("--priority {tag}"),
                format!("a POSIX priority is 0 to {}", MQ_PRIO_MAX - 1),
            )
        })
}
