//! What a round did and found: the counts the report adds up, and every problem by kind.

/// What a round did and found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The fault was delivered while its target was running.
    pub landed: bool,
    /// Messages of the senders that finished (exit 0): what they reported as sent.
    pub sent: u64,
    /// Messages the receiver reported as received.
    pub delivered: u64,
    /// Messages taken from a kept queue by the drain.
    pub drained: u64,
    /// Queues kept by the contract (and drained).
    pub kept: u64,
    /// Objects or files left that should not have been.
    pub leaks: Vec<String>,
    /// Objects a SIGKILLed creator could not remove (removed by us, not a leak).
    pub residue: Vec<String>,
    /// Processes that did not end within their bound.
    pub hangs: Vec<String>,
    /// Everything else that broke the contract.
    pub failures: Vec<String>,
    /// Ends we stopped with SIGTERM because they waited, as allowed, for a peer that died.
    pub stopped: u64,
    /// What each process printed on stderr, kept when the round failed (for the replay).
    pub details: Vec<String>,
    /// UDP messages the server never got, each reported by its client ("did not come back").
    pub udp_lost: u64,
    /// Messages lost beyond what the contract allows (UDP losses reported by their clients):
    /// the receiver's `lost=`, and for a queue what neither the receiver nor the drain got of
    /// what the senders that finished sent. 0 in a good round.
    pub lost: u64,
    /// Messages counted twice (`duplicated=` of the receiver and of the drain). 0 in a good
    /// round.
    pub duplicated: u64,
    /// Records that were not a message (`corrupt=` of the receiver and of the drain), beyond
    /// the half frame a socket client stopped mid-write leaves its server. 0 in a good round.
    pub corrupt: u64,
    /// Half frames of socket clients stopped mid-write, counted corrupt by the server
    /// (allowed: the server drops them, as it would any broken peer).
    pub half_frames: u64,
}

impl Outcome {
    /// True when the round broke nothing.
    pub fn ok(&self) -> bool {
        self.leaks.is_empty() && self.hangs.is_empty() && self.failures.is_empty()
    }
}
