//! [`QueueInbox`]: how msgq-receiver (and ipc-bench) take messages out of either kind of
//! queue, the mirror of [`QueueOutbox`](crate::QueueOutbox).
//!
//! One kernel message is one message: one `msgrcv` (System V, selecting by message type) or
//! `mq_receive` (POSIX, highest priority first) takes it out, and the [`Codec`] chosen by
//! `--wire` decodes it; bytes that are not a message are [`Delivery::Garbled`]. With
//! `nowait` (`--nowait`, a drain) an empty queue is [`Delivery::Closed`]. The raw path,
//! [`Inbox::receive_bytes`], skips the codec.

use nix::libc::c_long;

use ipc_common::codec::Codec;
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::{program, Error, Result};

use crate::queue::Queue;

/// The receiver's [`Inbox`]: one msgrcv (of type `mtype`) or mq_receive per message.
#[derive(Debug)]
pub struct QueueInbox {
    /// `None`: a drain found no queue, so there is nothing to take.
    queue: Option<Queue>,
    codec: Codec,
    /// msgrcv's msgtyp (System V only; POSIX always gives the highest priority first).
    mtype: c_long,
    nowait: bool,
    /// The last POSIX message's bytes, reused from one receive to the next (a System V
    /// message is decoded in the queue's own buffer).
    record: Vec<u8>,
}

impl QueueInbox {
    /// Takes our bincode Messages out of `queue` (a [`MsgQueue`](crate::MsgQueue), a
    /// [`PosixQueue`](crate::PosixQueue) or a [`Queue`]), of System V type `mtype` (msgrcv's
    /// meaning: 0 any, T > 0 only T, T < 0 the lowest type <= |T| first). With `nowait`, an
    /// empty queue closes the inbox instead of being waited on.
    pub fn new(queue: impl Into<Queue>, mtype: c_long, nowait: bool) -> Self {
        QueueInbox {
            queue: Some(queue.into()),
            codec: Codec::Bincode,
            mtype,
            nowait,
            record: Vec::new(),
        }
    }

    /// An inbox with no queue behind it, closed from the start: a drain of a queue that is
    /// not there.
    pub fn nothing() -> Self {
        QueueInbox {
            queue: None,
            codec: Codec::Bincode,
            mtype: 0,
            nowait: true,
            record: Vec::new(),
        }
    }

    /// Decodes each message with `codec` instead (`--wire c`: `WireArg::codec(&clayout::MSGQ)`).
    #[must_use]
    pub fn speaking(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
}

impl Inbox for QueueInbox {
    /// C: `msgrcv(id, &buf, msgmax, mtype, 0)` (System V), then decodes the message where it
    /// landed, in the queue's `struct msgbuf`; or `mq_receive(mqd, buf, msgsize, &prio)`
    /// (POSIX) into the reused record, then decodes it.
    fn receive(&mut self) -> Result<Delivery> {
        let codec = &mut self.codec;
        let taken = match &mut self.queue {
            // Decoded where msgrcv put it, in the queue's struct msgbuf.
            Some(Queue::SystemV(queue)) => {
                queue.receive_with(self.mtype, self.nowait, |text| codec.decode(text))?
            }
            Some(Queue::Posix(queue)) => queue
                .receive(self.nowait, &mut self.record)?
                .then(|| codec.decode(&self.record)),
            None => None,
        };
        Ok(taken.unwrap_or(Delivery::Closed))
    }

    /// The raw path: the next kernel message's bytes into `buf`, no codec.
    fn receive_bytes(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        let taken = match &mut self.queue {
            Some(Queue::SystemV(queue)) => queue.receive(self.mtype, self.nowait, buf)?,
            Some(Queue::Posix(queue)) => queue.receive(self.nowait, buf)?,
            None => false,
        };
        if taken {
            Ok(())
        } else {
            Err(Error::new("receiving from the queue", "it is empty"))
        }
    }

    /// A drain says that it took everything.
    fn finish(&mut self) -> Result<()> {
        if self.nowait && self.queue.is_some() {
            eprintln!("{}: the queue is empty", program::name());
        }
        Ok(())
    }
}
