//! The setup of a `cluster_member` input, its steps, and the user commands among them.

use arbitrary::Arbitrary;

use super::{
    AddrChoice, AnonKeyChoice, AnonMessageSpec, BodySpec, ClusterChoice, Cutting, EpochChoice,
    FloodSpec, JoinSpec, KeyChoice, MemberChoice, PhaseSpec, PublicKeyChoice, RelayEpochChoice,
    TagChoice, ThreadChoice, VoteChoice,
};

/// A user command.
#[derive(Debug, Arbitrary)]
pub enum Command {
    /// Post a text (repeated `1 + repeat % 8` times).
    Post {
        /// The text.
        text: String,
        /// Repetitions.
        repeat: u8,
    },
    /// Leave the cluster.
    Leave,
    /// Found a new cluster.
    Create {
        /// Member limit.
        limit: Option<u16>,
    },
    /// Join through an address.
    Join {
        /// The contact.
        contact: AddrChoice,
    },
    /// Cast a ballot on a vote.
    Vote {
        /// The vote.
        vote: VoteChoice,
        /// Yes or no.
        yes: bool,
    },
    /// Propose to expel a member.
    Expel {
        /// The member.
        member: MemberChoice,
    },
    /// Connect to an address.
    Connect {
        /// Where.
        to: AddrChoice,
    },
    /// Announce again.
    Announce {
        /// The name.
        name: String,
    },
    /// Send an anonymous message (the text repeated `1 + repeat % 64` times).
    SendAnonymous {
        /// The recipient.
        to: MemberChoice,
        /// The text.
        text: String,
        /// Repetitions.
        repeat: u8,
        /// Sign it.
        sign: bool,
    },
    /// Answer in an anonymous conversation (the text repeated `1 + repeat % 64` times).
    ReplyAnonymous {
        /// The conversation.
        thread: ThreadChoice,
        /// The text.
        text: String,
        /// Repetitions.
        repeat: u8,
        /// Sign it.
        sign: bool,
    },
    /// Call a member.
    Call {
        /// The callee.
        to: MemberChoice,
        /// Reveal the caller.
        sign: bool,
    },
    /// Answer, decline or hang up a call (known calls are the node's threads).
    EndOrAnswer {
        /// The call.
        call: ThreadChoice,
        /// 0: answer, 1: decline, otherwise hang up.
        how: u8,
    },
    /// Send voice frames in a call, in one instant.
    SendVoice {
        /// The call.
        call: ThreadChoice,
        /// Frames (`1 + frames % 16`).
        frames: u8,
        /// Bytes of each (may be over the bound).
        len: u8,
    },
}

/// What one step does to the fuzzed member.
#[derive(Debug, Arbitrary)]
pub enum Action {
    /// A cluster frame with a built body.
    Frame {
        /// The sealing key.
        key: KeyChoice,
        /// The sender's address.
        from: AddrChoice,
        /// The frame's cluster.
        cluster: ClusterChoice,
        /// The frame's epoch.
        epoch: EpochChoice,
        /// The body.
        body: BodySpec,
    },
    /// A flooded object in fragment frames.
    Flood {
        /// The sealing key.
        key: KeyChoice,
        /// The sender's address.
        from: AddrChoice,
        /// The frames' cluster.
        cluster: ClusterChoice,
        /// The frames' epoch.
        epoch: EpochChoice,
        /// The object.
        object: FloodSpec,
        /// How it is cut.
        cutting: Cutting,
    },
    /// An anonymous message in relay frames, one per fragment, each freshly sealed.
    AnonMessage {
        /// The sealing key of the frames.
        key: KeyChoice,
        /// The sender's address.
        from: AddrChoice,
        /// The frames' cluster.
        cluster: ClusterChoice,
        /// The frames' epoch.
        epoch: EpochChoice,
        /// The epoch the relays name.
        relay_epoch: RelayEpochChoice,
        /// Where the packets are on their way.
        phase: PhaseSpec,
        /// The key the packets are sealed to.
        to: AnonKeyChoice,
        /// Their detection tags.
        tag: TagChoice,
        /// The message.
        message: AnonMessageSpec,
        /// How it is cut (into fragments of at most `ANON_FRAGMENT_BYTES`).
        cutting: Cutting,
    },
    /// Arbitrary datagram bytes.
    Raw {
        /// The sender's address.
        from: AddrChoice,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// A join frame.
    Join {
        /// The key it is sealed to.
        to: PublicKeyChoice,
        /// The sender's address.
        from: AddrChoice,
        /// The message.
        message: JoinSpec,
    },
    /// One of the last datagrams a real node sent, delivered again, perhaps with a byte
    /// changed.
    Replay {
        /// Which (from the newest).
        index: u8,
        /// The sender's address.
        from: AddrChoice,
        /// (position, xor) of a changed byte.
        flip: Option<(u16, u8)>,
    },
    /// The clock moves on and the node's timers fire.
    Timeout {
        /// Milliseconds.
        advance_ms: u32,
    },
    /// A user command.
    Command(Command),
    /// Datagrams between the fuzzed node and the other real node, both ways, some rounds.
    Exchange {
        /// Rounds (`1 + rounds % 4`).
        rounds: u8,
    },
}

/// One step: a little time passes (no timer fires), then the action.
#[derive(Debug, Arbitrary)]
pub struct MemberStep {
    /// Milliseconds since the previous step.
    pub advance_ms: u16,
    /// What happens.
    pub action: Action,
}

/// The setup a `cluster_member` input chooses.
#[derive(Debug, Arbitrary)]
pub struct MemberSetup {
    /// Fuzz the founder (else the node that joined).
    pub founder: bool,
    /// The member limit (`% 4`: none, 2, 3, 8).
    pub limit: u8,
    /// How the fuzzed node votes unattended (`% 3`: yes, ask, no). A founder that would vote
    /// no votes yes: the cluster could not form.
    pub auto_vote: u8,
}
