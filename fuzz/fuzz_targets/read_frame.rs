//! Fuzz target: `wire::read_frame` over a byte stream, what a pipe, FIFO or stream-socket
//! receiver does, frame after frame, feeding each message to the receiver's `Tally`. No
//! panic, no hang, and the buffer never grows past one frame of MAX_FRAME.
#![no_main]

use ipc_common::tally::Tally;
use ipc_common::wire::{self, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let mut buf = Vec::new();
    let mut tally = Tally::new();
    while let Ok(Some(msg)) = wire::read_frame(&mut input, &mut buf) {
        tally.record(&msg);
        assert!(buf.len() <= MAX_FRAME);
    }
    let _ = tally.summary();
});
