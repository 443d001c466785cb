//! Fuzz target: `wire::decode`, what a message-queue, shared-memory or datagram receiver does
//! with each kernel message. Whatever the bytes: no panic, no allocation past the limit
//! (libFuzzer's -malloc_limit_mb catches one), and a message that decodes encodes back to a
//! message that decodes to itself.
#![no_main]

use ipc_common::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = wire::decode(data) {
        let mut again = Vec::new();
        wire::encode(&msg, &mut again).expect("a decoded message encodes");
        assert_eq!(wire::decode(&again).expect("and decodes"), msg);
        // Every message, however odd, can be counted (the receiver's next step).
        let _ = msg.is_intact();
    }
});
