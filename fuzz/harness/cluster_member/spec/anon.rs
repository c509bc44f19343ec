//! Anonymous packets, their payloads and whole anonymous messages, built from fuzzer choices.

use arbitrary::Arbitrary;

use super::{BallotSpec, PublicKeyChoice, Signer};

/// Which epoch an anonymous relay names.
#[derive(Debug, Arbitrary)]
pub enum RelayEpochChoice {
    /// The node's current epoch plus an offset.
    Near(i8),
    /// Any epoch.
    Other(u64),
}

/// Where an anonymous packet is on its way.
#[derive(Debug, Arbitrary)]
pub enum PhaseSpec {
    /// On the stem.
    Stem {
        /// Which copy of the hop.
        copy: u8,
    },
    /// In the fluff, after some hops.
    Fluff {
        /// Hops made.
        hops: u8,
    },
    /// Handed over by anti-entropy.
    Stored {
        /// Seconds it is still kept for.
        ttl_s: u16,
    },
}

impl PhaseSpec {
    /// The relay phase this describes.
    pub(crate) fn phase(&self) -> peerster_core::wire::anon::RelayPhase {
        use peerster_core::wire::anon::RelayPhase;
        match *self {
            PhaseSpec::Stem { copy } => RelayPhase::Stem { copy },
            PhaseSpec::Fluff { hops } => RelayPhase::Fluff { hops },
            PhaseSpec::Stored { ttl_s } => RelayPhase::Stored { ttl_s },
        }
    }
}

/// Which key an anonymous packet is sealed to.
#[derive(Debug, Arbitrary)]
pub enum AnonKeyChoice {
    /// A key a message names ([`PublicKeyChoice::MyEpochKey`]: one the node opens).
    Key(PublicKeyChoice),
    /// The reply key of one of the node's messages the harness overheard (sent to a fixture
    /// key): one the node opens by its detection tag.
    Heard(u8),
}

/// The detection tag of an anonymous packet.
#[derive(Debug, Arbitrary)]
pub enum TagChoice {
    /// Any bytes.
    Raw([u8; 16]),
    /// The tag of the i-th answer to the key the packet is sealed to (plus the fragment's
    /// index, for a message).
    Answer(u8),
}

/// Which message an anonymous fragment or acknowledgement names.
#[derive(Debug, Arbitrary)]
pub enum AnonMessageChoice {
    /// One of the node's messages the harness overheard.
    Heard(u8),
    /// One the node sent (`send_anonymous` or `reply_anonymous` returned it).
    Sent(u8),
    /// Any id (repeated over 16 bytes).
    Raw(u8),
}

/// Which conversation an anonymous message or reply belongs to.
#[derive(Debug, Arbitrary)]
pub enum ThreadChoice {
    /// One the node knows: it opened it, or was written to in it.
    Known(u8),
    /// Any id.
    Raw([u8; 16]),
}

/// What an anonymous packet carries, once opened.
#[derive(Debug, Arbitrary)]
pub enum AnonPayloadSpec {
    /// A fragment with arbitrary fields.
    Fragment {
        /// The message.
        message: AnonMessageChoice,
        /// Index.
        index: u16,
        /// Count.
        count: u16,
        /// Content.
        bytes: Vec<u8>,
    },
    /// An acknowledgement.
    Ack {
        /// The message acknowledged.
        message: AnonMessageChoice,
    },
    /// A ballot, as a member seals it to an authority.
    Ballot(BallotSpec),
    /// Any plaintext, sealed as it is: it authenticates, but need not decode.
    Plaintext {
        /// The bytes.
        bytes: Vec<u8>,
        /// Pad them properly (else they are the padded plaintext, cut or zero-extended).
        pad: bool,
    },
}

/// An anonymous packet.
#[derive(Debug, Arbitrary)]
pub enum PacketSpec {
    /// Any bytes, cut or zero-extended to a packet.
    Raw(Vec<u8>),
    /// One of the last packets the harness sent or overheard, again.
    Known(u8),
    /// A payload sealed to a key.
    Sealed {
        /// The key.
        to: AnonKeyChoice,
        /// Its detection tag.
        tag: TagChoice,
        /// What it carries.
        payload: AnonPayloadSpec,
    },
}

/// An anonymous message, sent as the fragments a [`Cutting`] delivers.
///
/// [`Cutting`]: super::Cutting
#[derive(Debug, Arbitrary)]
pub struct AnonMessageSpec {
    /// Its conversation.
    pub thread: ThreadChoice,
    /// The reply key it carries ([`PublicKeyChoice::Pool`]: one the harness opens answers to).
    pub reply_key: PublicKeyChoice,
    /// The text (not necessarily UTF-8), repeated `1 + repeat % 64` times.
    pub text: Vec<u8>,
    /// Repetitions.
    pub repeat: u8,
    /// Who signs it, if anyone.
    pub signer: Option<Signer>,
}
