//! Counters of what a node did and what it refused, for hosts, tests and the simulator.

/// What a [`Node`](crate::Node) has received, sent and dropped since it was created.
///
/// Every input that a node refuses is counted under the reason it was refused, so that a host
/// can tell a hostile or broken peer from a quiet one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed to [`Node::handle_datagram`](crate::Node::handle_datagram).
    pub datagrams_received: u64,
    /// Bytes in those datagrams.
    pub bytes_received: u64,
    /// Datagrams queued for [`Node::poll_transmit`](crate::Node::poll_transmit).
    pub datagrams_sent: u64,
    /// Bytes in those datagrams.
    pub bytes_sent: u64,
    /// Handshakes that authenticated a peer.
    pub handshakes_completed: u64,
    /// Announcements of other nodes accepted (new, or newer than the one held).
    pub announcements_accepted: u64,
    /// Cluster posts delivered to the user (this node's own not counted).
    pub posts_delivered: u64,
    /// Held-back posts delivered without a predecessor that never came.
    pub post_gaps_skipped: u64,
    /// Key rollouts this node led and published.
    pub rollouts_led: u64,
    /// Epochs installed from rollouts (this node's own included).
    pub rollouts_installed: u64,
    /// Anonymous messages this node sent (each counted once, however often it was re-sent).
    pub anon_sent: u64,
    /// Anonymous messages delivered to this node, each once.
    pub anon_received: u64,
    /// Anonymous messages of this node whose delivery was acknowledged.
    pub anon_acknowledged: u64,
    /// Anonymous messages of this node given up (no acknowledgement, or recipient gone).
    pub anon_failed: u64,
    /// Re-sends of anonymous messages not acknowledged in time.
    pub anon_retries: u64,
    /// Other members' packets this node passed on along the stem.
    pub anon_stem_relayed: u64,
    /// Fluffs this node started (as a stem relay, or for its own packet with no one to pass
    /// it to).
    pub anon_fluffs_started: u64,
    /// Packets this node fluffed because their embargo ran out (the stem lost them).
    pub anon_embargo_fluffs: u64,
    /// Trial decryptions with this node's epoch key.
    pub anon_trial_decryptions: u64,
    /// Stored packets handed to members that lacked them.
    pub anon_store_handovers: u64,
    /// Calls this node placed.
    pub calls_placed: u64,
    /// Calls of this node that were answered (placed or taken).
    pub calls_connected: u64,
    /// Voice frames this node sent.
    pub voice_frames_sent: u64,
    /// Voice frames delivered to this node, each once.
    pub voice_frames_received: u64,
    /// Cover packets this node sent in place of voice it did not have.
    pub cover_sent: u64,
    /// Cover packets other members sent to this node (dropped on arrival).
    pub cover_received: u64,
    /// Vote rounds this node found void (tallies that differ, or did not all come) and
    /// redrew.
    pub vote_redraws: u64,
    /// Inputs refused, by reason.
    pub dropped: DropStats,
}

/// Why inputs and outputs were dropped, one counter per reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropStats {
    /// Datagrams that did not decode (see [`DecodeError`](crate::wire::DecodeError)).
    pub malformed: u64,
    /// Packets whose signature did not verify.
    pub bad_signature: u64,
    /// Well-formed packets that matched no state: an answer to nothing, a probe from a
    /// stranger, a node's own identity echoed back.
    pub unexpected: u64,
    /// Packets already seen, or older than what the node holds (replays included).
    pub duplicate: u64,
    /// `Hello`s smaller than the answer they ask for (an amplification attempt).
    pub unpadded_hello: u64,
    /// Cluster or join frames that no key this node holds opens: traffic of another cluster,
    /// of an epoch this node is not in (as a removed member or a newcomer sees it), cluster
    /// frames reaching a node in no cluster (an expelled member holds no key any more), or
    /// noise.
    pub undecryptable: u64,
    /// Cluster messages naming a sender that is not a member of the epoch they claim.
    pub not_member: u64,
    /// Cluster messages of another cluster or of an epoch they do not belong to.
    pub stale: u64,
    /// Rollouts that are inconsistent, out of turn, from a member that is leaving, or whose
    /// key does not open.
    pub forged_rollout: u64,
    /// Fluffed packets claiming more hops than `Config::anon_hop_limit`.
    pub hop_limit: u64,
    /// Packets never trial-decrypted because the queue waiting for the trial budget was full.
    pub trial_budget: u64,
    /// Ballots from a member that already cast a different one in the round.
    pub second_ballot: u64,
    /// Datagrams not queued because the transmit queue was full.
    pub transmit_queue_full: u64,
    /// Events not queued because the event queue was full.
    pub event_queue_full: u64,
}
