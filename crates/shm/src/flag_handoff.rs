//! `--wire c`: the textbook's flag protocol (c/textbook/shm1.c and shm2.c, and our fixed
//! c/shm_receiver.c and c/shm_sender.c), so that a Rust end pairs with a C end.
//!
//! The segment is `struct shared_use_st { int written_by_you; char some_text[2048]; }`
//! (2052 bytes, key 1234; see [`crate::shared_use`]). No semaphores: one flag says whose turn
//! it is.
//!
//! ```text
//! sender (shm2.c)                             receiver (shm1.c)
//!   while (written_by_you == 1) wait            while (written_by_you == 0) wait
//!   strncpy(some_text, "hello\n", TEXT_SZ)      printf("You wrote: %s", some_text)
//!   written_by_you = 1                          written_by_you = 0
//!   ... the last text is "end\n"                ... stops when strncmp(some_text, "end", 3) == 0
//! ```
//!
//! What we do differently from the textbook, and why:
//! - the flag is an atomic: the sender's `Release` store of 1 publishes the text, the
//!   receiver's `Acquire` load of 1 sees all of it (a plain `int` promises no ordering);
//! - both ends poll every [`POLL`] (shm1.c spins at 100% CPU, shm2.c sleeps a whole second);
//! - the receiver never clears a flag it did not see set: shm1.c's `written_by_you = 0` at the
//!   start throws away a text a sender wrote before the receiver started. When the receiver
//!   creates the segment the kernel has zeroed it already;
//! - the texts are checked to fit (at most 2046 bytes: the text, its `\n` and the NUL), and
//!   what is read is cut at its first NUL;
//! - an end that sees its peer gone (attached once, now detached) says so instead of waiting
//!   for ever.
//!
//! Who removes the segment: the receiver, always (shm1.c's `shmctl(IPC_RMID)`), when it
//! finishes, fails or is stopped. The sender never removes a segment a receiver uses: a
//! sender that finishes leaves its last text (`end`) for the receiver, as shm2.c does, even
//! in a segment it created. Only a sender that created the segment and is stopped early
//! (Ctrl-C, an error) with no other process attached removes it: no receiver has come, and
//! what it holds was never delivered.

use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant};

use ipc_common::clayout::{CDecoder, CLayout, Terminator};
use ipc_common::cli::{Key, Mode};
use ipc_common::receiver::{Delivery, Inbox};
use ipc_common::sender::Outbox;
use ipc_common::{program, signals, Error, Message, Result};

use crate::layout::{field, MAGIC};
use crate::segment::ShmSegment;
use crate::shared_use::{SharedUseSt, SOME_TEXT, TEXT_SZ, WRITTEN_BY_YOU};

/// How often a waiting end looks at the flag: short enough to feel instant, long enough to
/// cost no CPU worth measuring.
pub const POLL: Duration = Duration::from_millis(5);

/// How often a waiting sender says `waiting for client...` (shm2.c's `sleep(1)`), and a
/// waiting end checks whether its peer is still attached.
const EVERY_SECOND: Duration = Duration::from_secs(1);

/// The texts in the segment, as shm2.c puts them there: a line read by `fgets`, so the text,
/// its `\n` and the NUL, in `char some_text[2048]`; at most 2046 bytes of text. Only the text
/// is copied in (shm2.c's `strncpy` also zeroes the rest of the 2048 bytes; nobody reads them).
pub static SHARED_USE_ST: CLayout = CLayout {
    programs: "the textbook's shm1.c and shm2.c (and c/shm_receiver.c, c/shm_sender.c)",
    declaration: "char some_text[TEXT_SZ] (TEXT_SZ = 2048)",
    size: TEXT_SZ,
    terminator: Terminator::Nul,
    whole_buffer: false,
};

/// One end of the flag protocol over the attached `struct shared_use_st`: an [`Inbox`] at the
/// receiving end, an [`Outbox`] at the sending end.
#[derive(Debug)]
pub struct FlagChannel {
    segment: ShmSegment,
    created: bool,
    /// This is the receiving end, which always removes the segment.
    receiver: bool,
    /// The peer has been attached at some point (to tell "gone" from "not started yet").
    peer_seen: bool,
    /// Turns a text into a Message (numbered in arrival order; `end...` is End).
    decoder: CDecoder,
    /// The sender finished normally (the segment then stays for the receiver).
    finished: bool,
    /// The segment's text, copied out, or the text to copy in.
    buf: Vec<u8>,
}

impl FlagChannel {
    /// The receiving end, as shm1.c: `shmget(key, 2052, mode | IPC_CREAT)` and `shmat`. It
    /// removes the segment when it finishes, whoever created it.
    pub fn receiver(key: Key, mode: Mode) -> Result<FlagChannel> {
        let mut channel = FlagChannel::attach(key, mode)?;
        channel.receiver = true;
        channel.segment.remove_when_done(true);
        Ok(channel)
    }

    /// The sending end, as shm2.c: `shmget(key, 2052, mode | IPC_CREAT)` and `shmat`. It does
    /// not remove the segment (see the module's doc for the one exception).
    pub fn sender(key: Key, mode: Mode) -> Result<FlagChannel> {
        FlagChannel::attach(key, mode)
    }

    /// C: `shmget(key, sizeof(struct shared_use_st), mode | IPC_CREAT)`, then `shmat`: creates
    /// the segment, or attaches the one that exists if it has the struct's size. A new segment
    /// is ours to remove until [`FlagChannel::receiver`] or [`Outbox::send`]'s end decide.
    fn attach(key: Key, mode: Mode) -> Result<FlagChannel> {
        let (segment, created) = match ShmSegment::create(key, SharedUseSt::SIZE, mode)? {
            Some(segment) => (segment, true),
            None => {
                let mut segment = ShmSegment::open(key)?;
                segment.remove_when_done(false);
                segment.check_shared(mode)?;
                check_size(&segment)?;
                (segment, false)
            }
        };
        Ok(FlagChannel {
            segment,
            created,
            receiver: false,
            peer_seen: false,
            decoder: SHARED_USE_ST.decoder(),
            finished: false,
            buf: Vec::with_capacity(TEXT_SZ),
        })
    }

    /// Says what was created or found, then the textbook's `Memory attached at %X`.
    pub fn announce(&self) {
        let segment = &self.segment;
        let how = if self.created { "created" } else { "found" };
        eprintln!(
            "{}: {how} the textbook's segment key {} (id {}, {} bytes: struct shared_use_st)",
            program::name(),
            segment.key(),
            segment.id(),
            segment.size(),
        );
        eprintln!("Memory attached at {:X}", segment.addr());
    }

    /// The segment (address, id, key).
    pub fn segment(&self) -> &ShmSegment {
        &self.segment
    }

    /// True if this end created the segment.
    pub fn created(&self) -> bool {
        self.created
    }

    /// The sender has written its last text (`end`): the segment is left for the receiver,
    /// as shm2.c leaves it. Returns true if no receiver is attached right now (the texts wait
    /// in the segment for one).
    pub fn finish(&mut self) -> Result<bool> {
        self.finished = true;
        self.segment.remove_when_done(false);
        Ok(self.segment.stat()?.nattch <= 1)
    }

    /// Checked about once a second while waiting for the flag to become `want`: Ok while the
    /// peer may still come or is attached; an error once it attached and has gone. A peer
    /// sets the flag before it detaches, so the flag is looked at again after the count: a
    /// sender that wrote `end` and left at once is not mistaken for a dead one.
    fn check_peer(&mut self, want: u32, gone: &str) -> Result<()> {
        if self.segment.stat()?.nattch > 1 {
            self.peer_seen = true;
            return Ok(());
        }
        let flag = self.flag()?.load(Acquire);
        if self.peer_seen && (flag != 0) != (want != 0) {
            return Err(Error::new(
                "waiting on the flag written_by_you (--wire c)",
                gone,
            ));
        }
        Ok(())
    }

    /// C's `written_by_you`, shared with the other process.
    fn flag(&self) -> Result<&std::sync::atomic::AtomicU32> {
        self.segment.word(WRITTEN_BY_YOU)
    }

    /// Waits (polling every [`POLL`]) until the flag is `want`, checking for Ctrl-C and,
    /// every second, for the peer; `each_second` runs once per second waited.
    fn wait_for_flag(
        &mut self,
        want: u32,
        gone: &str,
        mut each_second: impl FnMut(),
    ) -> Result<()> {
        let mut last = Instant::now();
        loop {
            // Acquire: once we see the flag the other end set, we see everything it wrote
            // before setting it (the text), and it no longer touches the text.
            let flag = self.flag()?.load(Acquire);
            if (flag != 0) == (want != 0) {
                return Ok(());
            }
            signals::check()?;
            std::thread::sleep(POLL);
            if last.elapsed() >= EVERY_SECOND {
                last = Instant::now();
                each_second();
                self.check_peer(want, gone)?;
            }
        }
    }
}

impl Inbox for FlagChannel {
    /// Waits for `written_by_you == 1`, copies the text out, sets the flag back to 0.
    fn receive(&mut self) -> Result<Delivery> {
        self.wait_for_flag(
            1,
            "the sender detached without sending `end` (killed?)",
            || {},
        )?;
        self.buf.resize(TEXT_SZ, 0);
        self.segment.read(SOME_TEXT, &mut self.buf)?;
        // Release: our copy of the text is done before the sender may write the next one.
        self.flag()?.store(0, Release);
        // Up to the NUL, without the one "\n" (or "\r\n") fgets kept; `end...` is End.
        Ok(self.decoder.decode(&self.buf))
    }
}

impl Outbox for FlagChannel {
    /// Waits while `written_by_you == 1` (saying `waiting for client...` each second, as
    /// shm2.c does), writes the text with its `\n` and NUL, sets the flag to 1.
    fn send(&mut self, msg: &Message) -> Result<()> {
        SHARED_USE_ST.encode(msg, &mut self.buf)?; // the text, its "\n" and the NUL
        self.wait_for_flag(
            0,
            "the receiver detached without taking the last text (killed?)",
            || eprintln!("waiting for client..."),
        )?;
        self.segment.write(SOME_TEXT, &self.buf)?;
        // Release: the text is in place before the receiver can see the 1.
        self.flag()?.store(1, Release);
        Ok(())
    }

    /// shm1.c stops at any text that starts with `end`.
    fn ends_conversation(&self, text: &str) -> bool {
        ipc_common::clayout::is_c_end(text.as_bytes())
    }
}

impl Drop for FlagChannel {
    /// A sender stopped early leaves a segment it created to a receiver that is attached, and
    /// removes it if nobody else is (see the module's doc).
    fn drop(&mut self) {
        if self.created && !self.receiver && !self.finished {
            let others = self.segment.stat().map_or(true, |s| s.nattch > 1);
            if others {
                self.segment.remove_when_done(false);
            }
        }
    }
}

/// The "other size" error: names both sizes and the `--wire` that fits what was found.
fn check_size(segment: &ShmSegment) -> Result<()> {
    let size = segment.size();
    if size == SharedUseSt::SIZE {
        return Ok(());
    }
    let ours = size >= 4
        && segment
            .word(field::MAGIC)
            .is_ok_and(|magic| magic.load(Acquire) == MAGIC);
    let (whose, hint) = if ours {
        (
            "shm-sender/shm-receiver's own slots and semaphores",
            "start this end without --wire c (the default --wire bincode), or use another --key"
                .to_string(),
        )
    } else {
        (
            "not one of ours either",
            format!(
                "use another --key, or remove the segment if it is a leftover: ipcrm -M {}",
                segment.key().0
            ),
        )
    };
    Err(Error::new(
        format!(
            "using the shared memory segment with key {} (--wire c)",
            segment.key()
        ),
        format!(
            "it is {size} bytes, not the textbook's struct shared_use_st ({} bytes): {whose}",
            SharedUseSt::SIZE
        ),
    )
    .with_hint(hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(delivery: Delivery) -> Message {
        match delivery {
            Delivery::Message(msg) => msg,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn a_text_travels_with_its_newline_and_nul_and_comes_back_without() {
        let mut record = Vec::new();
        SHARED_USE_ST
            .encode(&Message::text(1, 1, "hello"), &mut record)
            .expect("fits");
        assert_eq!(record, b"hello\n\0");
        record.extend_from_slice(b"old text");
        let mut decoder = SHARED_USE_ST.decoder();
        assert_eq!(
            message(decoder.decode(&record)),
            Message::text(0, 1, "hello")
        );
        assert!(message(decoder.decode(b"end\r\n\0")).is_end());
    }

    #[test]
    fn a_text_fits_with_its_newline_and_nul() {
        assert!(SHARED_USE_ST.check_text(&"x".repeat(2046)).is_ok());
        assert!(SHARED_USE_ST.check_text(&"x".repeat(2047)).is_err());
    }
}
