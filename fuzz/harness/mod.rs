//! What each fuzz target checks, shared by the `cargo fuzz` targets and by
//! `core/tests/fuzz_regressions.rs`, which replays the inputs in `fuzz/regressions/`.

// Each fuzz target uses one of these checks; the regression test uses both.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use peerster_core::crypto::IdentityKey;
use peerster_core::wire::{self, MAX_DATAGRAM_SIZE};
use peerster_core::{Config, Node, Timestamp};

/// Any bytes into the datagram and padding decoders: never a panic, and whatever decodes
/// re-encodes to the same bytes (one encoding per packet).
pub fn decode(data: &[u8]) {
    if let Ok(packet) = wire::decode(data) {
        let again = wire::encode(&packet).expect("a decoded packet re-encodes");
        assert_eq!(again, data, "two encodings of one {} packet", packet.kind());
    }
    let _ = wire::padding::unpad(data);
}

/// One input to a node.
#[derive(Debug, Arbitrary)]
pub enum Step {
    /// A datagram from one of 256 addresses, some time after the previous step.
    Datagram {
        /// Last byte of the sender's address.
        from: u8,
        /// Milliseconds since the previous step.
        advance_ms: u16,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// The clock moves on and the node's timer fires.
    Timeout {
        /// Milliseconds since the previous step.
        advance_ms: u32,
    },
    /// The user connects to one of 256 addresses.
    Connect {
        /// Last byte of the address.
        to: u8,
    },
    /// The user founds a cluster.
    CreateCluster {
        /// The member limit.
        limit: Option<u16>,
    },
    /// The user asks to join through one of 256 addresses.
    Join {
        /// Last byte of the contact's address.
        contact: u8,
    },
    /// The user posts to the cluster.
    Post {
        /// The text.
        text: String,
    },
    /// The user leaves the cluster.
    LeaveCluster,
    /// The user announces the node.
    Announce {
        /// The display name.
        name: String,
    },
    /// The user answers a join request.
    AnswerJoin {
        /// The joiner's id.
        joiner: [u8; 16],
        /// Accept it.
        accept: bool,
    },
}

fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 7000))
}

/// A sequence of arbitrary datagrams, timer firings, connects and cluster commands into one
/// `Node`: never a panic, every output well-formed and within the datagram limit (sealed
/// frames one padding bucket long), its cluster view consistent, and every input counted.
pub fn node_datagram(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(steps) = Vec::<Step>::arbitrary(&mut input) else {
        return;
    };
    let mut now = Timestamp::ZERO;
    let identity = IdentityKey::from_secret_bytes([7; 32]);
    let mut node = Node::new(Config::default(), identity, [9; 32], now).expect("valid config");
    let mut received = 0u64;
    for step in steps.into_iter().take(256) {
        match step {
            Step::Datagram {
                from,
                advance_ms,
                bytes,
            } => {
                now += Duration::from_millis(advance_ms.into());
                node.handle_datagram(now, addr(from), &bytes);
                received += 1;
            }
            Step::Timeout { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                node.handle_timeout(now);
            }
            Step::Connect { to } => node.connect(now, addr(to)),
            // Commands may be refused (no peer, not in a cluster): only panics matter.
            Step::CreateCluster { limit } => {
                let _ = node.create_cluster(now, limit);
            }
            Step::Join { contact } => {
                let _ = node.join(now, addr(contact));
            }
            Step::Post { text } => {
                let _ = node.post(now, &text);
            }
            Step::LeaveCluster => {
                let _ = node.leave_cluster(now);
            }
            Step::Announce { name } => {
                let _ = node.announce(now, &name);
            }
            Step::AnswerJoin { joiner, accept } => {
                let _ = node.answer_join(now, peerster_core::ids::MemberId(joiner), accept);
            }
        }
        while let Some(t) = node.poll_transmit() {
            check_transmit(&t.payload, &node.config().pad_buckets);
        }
        while node.poll_event().is_some() {}
        check_cluster(&node, now);
    }
    assert_eq!(node.stats().datagrams_received, received);
}

/// One overlay packet (or a clock tick) from an already verified peer.
#[derive(Debug, Arbitrary)]
pub enum OverlayStep {
    /// A peer list with arbitrary addresses.
    PeerList {
        /// (IPv4 address, port) pairs.
        addrs: Vec<([u8; 4], u16)>,
        /// Whether the peer asks for our list.
        reply_wanted: bool,
    },
    /// A rumor validly signed by one of a few origins (the peer itself included).
    SignedRumor {
        /// Which of four origin keys signs.
        origin: u8,
        /// The sequence number.
        seq: u64,
        /// The display name.
        name: Vec<u8>,
    },
    /// A rumor with arbitrary fields (its signature will almost never verify).
    RawRumor {
        /// Origin key bytes (may not be a valid point).
        origin: [u8; 32],
        /// The sequence number.
        seq: u64,
        /// Signature bytes.
        signature: Vec<u8>,
    },
    /// A status with arbitrary digests.
    Status {
        /// Bucket digests (possibly the wrong count).
        digests: Vec<[u8; 8]>,
    },
    /// A status range with arbitrary entries.
    StatusRange {
        /// The bucket.
        bucket: u8,
        /// Range start.
        start: Option<[u8; 16]>,
        /// Range end.
        end: Option<[u8; 16]>,
        /// Entries.
        entries: Vec<([u8; 16], u64)>,
    },
    /// The clock moves on and timers fire.
    Tick {
        /// Milliseconds.
        advance_ms: u16,
    },
}

/// Well-formed overlay packets from a verified peer into a `Node`: never a panic, every output
/// within the datagram limit, and the announcement store and peer table within their bounds.
pub fn overlay_packets(data: &[u8]) {
    use peerster_core::ids::MemberId;
    use peerster_core::wire::{
        Announcement, AnnouncementBody, BoundedBytes, BoundedVec, Packet, PeerAddr, PeerList,
        Status, StatusRange,
    };

    let mut input = Unstructured::new(data);
    let Ok(steps) = Vec::<OverlayStep>::arbitrary(&mut input) else {
        return;
    };
    let config = Config {
        max_announcements: 16,
        max_known_addrs: 16,
        ..Config::default()
    };
    let (a_addr, b_addr) = (addr(1), addr(2));
    let mut now = Timestamp::ZERO;
    let mut a = Node::new(
        config.clone(),
        IdentityKey::from_secret_bytes([1; 32]),
        [1; 32],
        now,
    )
    .expect("valid config");
    let mut b = Node::new(
        config.clone(),
        IdentityKey::from_secret_bytes([2; 32]),
        [2; 32],
        now,
    )
    .expect("valid config");
    // Let b verify itself to a, moving datagrams by hand.
    b.connect(now, a_addr);
    for _ in 0..4 {
        while let Some(t) = b.poll_transmit() {
            a.handle_datagram(now, b_addr, &t.payload);
        }
        while let Some(t) = a.poll_transmit() {
            b.handle_datagram(now, a_addr, &t.payload);
        }
    }
    assert!(a.peer(&b_addr).is_some(), "the handshake completes");
    let origins: Vec<IdentityKey> = (2..6u8)
        .map(|i| IdentityKey::from_secret_bytes([i; 32]))
        .collect();

    for step in steps.into_iter().take(128) {
        let packet = match step {
            OverlayStep::PeerList {
                addrs,
                reply_wanted,
            } => Packet::PeerList(PeerList {
                addrs: BoundedVec::truncating(
                    addrs
                        .into_iter()
                        .map(|(ip, port)| PeerAddr::from(SocketAddr::from((ip, port))))
                        .collect(),
                ),
                reply_wanted,
            }),
            OverlayStep::SignedRumor { origin, seq, name } => {
                let key = &origins[usize::from(origin) % origins.len()];
                let body = AnnouncementBody::Node {
                    name: BoundedBytes::new(name).unwrap_or_default(),
                    node_key: key.node_key().public(),
                };
                Packet::Rumor(Announcement::new_signed(key, seq, body))
            }
            OverlayStep::RawRumor {
                origin,
                seq,
                signature,
            } => {
                let Ok(origin) = peerster_core::crypto::PublicIdentity::from_bytes(origin) else {
                    continue;
                };
                let mut sig = [0u8; 64];
                let n = signature.len().min(64);
                sig[..n].copy_from_slice(&signature[..n]);
                Packet::Rumor(Announcement {
                    origin,
                    seq,
                    body: AnnouncementBody::Node {
                        name: BoundedBytes::default(),
                        node_key: peerster_core::crypto::EpochPublic(origin.as_bytes().to_owned()),
                    },
                    signature: peerster_core::crypto::Signature::from_bytes(sig),
                })
            }
            OverlayStep::Status { digests } => Packet::Status(Status {
                digests: BoundedVec::truncating(digests),
            }),
            OverlayStep::StatusRange {
                bucket,
                start,
                end,
                entries,
            } => Packet::StatusRange(StatusRange {
                bucket,
                start: start.map(MemberId),
                end: end.map(MemberId),
                entries: BoundedVec::truncating(
                    entries
                        .into_iter()
                        .map(|(id, seq)| (MemberId(id), seq))
                        .collect(),
                ),
            }),
            OverlayStep::Tick { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                a.handle_timeout(now);
                continue;
            }
        };
        if let Ok(bytes) = wire::encode(&packet) {
            a.handle_datagram(now, b_addr, &bytes);
        }
        while let Some(t) = a.poll_transmit() {
            assert!(t.payload.len() <= MAX_DATAGRAM_SIZE);
        }
        while a.poll_event().is_some() {}
        assert!(a.announcements().count() <= config.max_announcements);
        assert!(a.peers().count() <= config.max_peers);
    }
}

// ------------------------------------------------------------------------------------------
// Clusters
// ------------------------------------------------------------------------------------------

/// Checks one datagram a node sent: within the datagram limit, a well-formed packet, and a
/// sealed cluster frame or join frame exactly one of the padding buckets long.
fn check_transmit(payload: &[u8], buckets: &[usize]) {
    use peerster_core::wire::Packet;

    assert!(
        payload.len() <= MAX_DATAGRAM_SIZE,
        "a datagram of {} bytes",
        payload.len()
    );
    let packet = wire::decode(payload).expect("a node sends only well-formed packets");
    if matches!(packet, Packet::Sealed(_) | Packet::Join(_)) {
        assert!(
            buckets.contains(&payload.len()),
            "a {} packet of {} bytes, not one of the buckets {buckets:?}",
            packet.kind(),
            payload.len()
        );
    }
}

/// What a node says of its cluster holds together: it is in its own member table, the table
/// is sorted by id without repeats and within the limits, nobody joined after the current
/// epoch, and a rollout it leads opens the next epoch.
fn check_cluster(node: &Node, now: Timestamp) {
    let Some(info) = node.cluster() else {
        return;
    };
    let me = node.id();
    assert!(
        info.members.iter().any(|m| m.id == me),
        "the node is not in its own member table: {info:?}"
    );
    assert!(
        info.members.windows(2).all(|w| w[0].id < w[1].id),
        "member table not sorted by id, or with repeats: {info:?}"
    );
    if let Some(limit) = info.limit {
        assert!(
            info.members.len() <= usize::from(limit),
            "{} members over the limit {limit}",
            info.members.len()
        );
    }
    assert!(info.members.len() <= node.config().max_cluster_size);
    for member in &info.members {
        assert_eq!(member.id, member.identity.member_id());
        assert!(
            member.joined <= info.epoch,
            "a member joined in epoch {} after the current {}",
            member.joined,
            info.epoch
        );
    }
    if let Some(leading) = info.leading {
        assert_eq!(
            leading,
            info.epoch.next(),
            "leading a rollout to another epoch"
        );
    }
    assert!(info.epoch_since <= now, "an epoch installed in the future");
}

/// Any bytes into the decoders of what travels inside cluster and join frames: never a panic,
/// and whatever decodes re-encodes to the same bytes (one encoding per payload). The first byte
/// picks the type (`% 4`: [`ClusterFrame`], [`Flooded`], [`JoinMessage`], or a sequence of
/// fragments into a reassembler); with bit `0x10` set, a payload that decodes also goes through
/// a sealed frame of the smallest bucket that holds it and back.
///
/// [`ClusterFrame`]: peerster_core::wire::cluster::ClusterFrame
/// [`Flooded`]: peerster_core::wire::cluster::Flooded
/// [`JoinMessage`]: peerster_core::wire::cluster::JoinMessage
pub fn cluster_payloads(data: &[u8]) {
    use peerster_core::wire::cluster::{ClusterFrame, Flooded, JoinMessage};

    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let seal = selector & 0x10 != 0;
    match selector % 4 {
        0 => payload_round_trip::<ClusterFrame>(bytes, seal, false),
        1 => payload_round_trip::<Flooded>(bytes, seal, false),
        2 => payload_round_trip::<JoinMessage>(bytes, seal, true),
        _ => fragments(bytes),
    }
}

fn payload_round_trip<T>(bytes: &[u8], seal: bool, join: bool)
where
    T: serde::de::DeserializeOwned + serde::Serialize + core::fmt::Debug + PartialEq,
{
    use peerster_core::crypto::{ClusterKey, EpochSecret};
    use peerster_core::wire::{Packet, frame, join_frame};
    use rand_core::SeedableRng;

    let Ok(value) = wire::decode_payload::<T>(bytes) else {
        return;
    };
    let again = wire::encode_payload(&value).expect("a decoded payload re-encodes");
    assert_eq!(again, bytes, "two encodings of one payload: {value:?}");
    let twice = wire::decode_payload::<T>(&again).expect("a re-encoded payload decodes");
    assert_eq!(twice, value);
    if !seal {
        return;
    }
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x42; 32]);
    let buckets = Config::default().pad_buckets;
    if join {
        let secret = EpochSecret::from_bytes([0x43; 32]);
        let Some(bucket) = buckets
            .iter()
            .copied()
            .find(|&b| join_frame::payload_capacity(b) >= bytes.len())
        else {
            let largest = MAX_DATAGRAM_SIZE;
            assert!(join_frame::seal_join(&secret.public(), &mut rng, largest, bytes).is_err());
            return;
        };
        let datagram = join_frame::seal_join(&secret.public(), &mut rng, bucket, bytes)
            .expect("a payload within the bucket's capacity seals");
        assert_eq!(datagram.len(), bucket);
        let Ok(Packet::Join(sealed)) = wire::decode(&datagram) else {
            panic!("a join frame does not decode as one");
        };
        let opened = join_frame::open_join(&secret, &sealed).expect("the recipient opens it");
        assert_eq!(opened, bytes);
    } else {
        let key = ClusterKey::from_bytes([0x44; 32]);
        let Ok(bucket) = frame::smallest_bucket(&buckets, bytes.len()) else {
            assert!(frame::seal_frame(&key, &mut rng, MAX_DATAGRAM_SIZE, bytes).is_err());
            return;
        };
        let datagram = frame::seal_frame(&key, &mut rng, bucket, bytes)
            .expect("a payload within the bucket's capacity seals");
        assert_eq!(datagram.len(), bucket);
        let Ok(Packet::Sealed(sealed)) = wire::decode(&datagram) else {
            panic!("a sealed frame does not decode as one");
        };
        let opened = frame::open_frame(&key, &sealed).expect("the key opens it");
        assert_eq!(opened, bytes);
    }
}

/// One input to a [`Reassembler`](peerster_core::wire::fragment::Reassembler).
#[derive(Debug, Arbitrary)]
enum FragmentStep {
    /// An arbitrary fragment.
    Piece {
        message: u8,
        index: u16,
        count: u16,
        len: u16,
        fill: u8,
        advance_ms: u16,
    },
    /// A message split and fed back, rotated.
    Split {
        message: u8,
        payload: Vec<u8>,
        per_fragment: u16,
        rotate: u16,
    },
    /// The clock moves on and old partial messages expire.
    Expire { advance_ms: u16 },
}

/// Fragments into a reassembler with small bounds: never a panic, no message over the byte
/// bound, no more partial messages than allowed; `split` then reassembly in any rotation gives
/// the payload back exactly once.
fn fragments(bytes: &[u8]) {
    use peerster_core::wire::BoundedBytes;
    use peerster_core::wire::fragment::{
        Fragment, MAX_FRAGMENT_BYTES, Reassembler, ReassemblyLimits, split,
    };

    let limits = ReassemblyLimits {
        max_messages: 4,
        max_message_bytes: 4096,
        timeout: Duration::from_secs(1),
        remember_completed: 8,
    };
    let mut input = Unstructured::new(bytes);
    let Ok(steps) = Vec::<FragmentStep>::arbitrary(&mut input) else {
        return;
    };
    let mut now = Timestamp::ZERO;
    let mut reassembler = Reassembler::new(limits);
    for step in steps.into_iter().take(256) {
        match step {
            FragmentStep::Piece {
                message,
                index,
                count,
                len,
                fill,
                advance_ms,
            } => {
                now += Duration::from_millis(advance_ms.into());
                let len = usize::from(len) % (MAX_FRAGMENT_BYTES + 1);
                let fragment = Fragment {
                    message: [message; 16],
                    index,
                    count,
                    bytes: BoundedBytes::new(vec![fill; len]).expect("within the bound"),
                };
                if let Ok(Some(whole)) = reassembler.insert(now, fragment) {
                    assert!(whole.len() <= limits.max_message_bytes);
                }
            }
            FragmentStep::Split {
                message,
                payload,
                per_fragment,
                rotate,
            } => {
                let per = usize::from(per_fragment);
                let Some(mut pieces) = split([message; 16], &payload, per) else {
                    assert!(per == 0 || per > MAX_FRAGMENT_BYTES || payload.len() / per >= 65535);
                    continue;
                };
                let count = pieces.len();
                assert!(count >= 1);
                let joined: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.to_vec()).collect();
                assert_eq!(joined, payload, "split loses or reorders bytes");
                for (i, piece) in pieces.iter().enumerate() {
                    assert_eq!(usize::from(piece.index), i);
                    assert_eq!(usize::from(piece.count), count);
                    assert!(piece.bytes.len() <= per);
                }
                pieces.rotate_left(usize::from(rotate) % count);
                // A fresh reassembler: the message is new to it.
                let mut fresh = Reassembler::new(ReassemblyLimits {
                    max_message_bytes: usize::MAX,
                    ..limits
                });
                let mut whole = None;
                for piece in pieces {
                    if let Some(done) = fresh.insert(now, piece).expect("a piece of a split") {
                        assert!(whole.is_none(), "a message delivered twice");
                        whole = Some(done);
                    }
                }
                assert_eq!(whole.as_deref(), Some(&payload[..]));
                assert_eq!(fresh.pending(), 0);
            }
            FragmentStep::Expire { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                reassembler.expire(now);
                assert!(reassembler.next_expiry().is_none_or(|t| t > now));
            }
        }
        assert!(reassembler.pending() <= limits.max_messages);
    }
}

// ------------------------------------------------------------------------------------------
// Anonymous messages
// ------------------------------------------------------------------------------------------

/// The cluster `anon_payloads` seals its packets for.
const ANON_CLUSTER: peerster_core::ids::ClusterId =
    peerster_core::ids::ClusterId(0x0123_4567_89ab_cdef);

/// The recipient key `anon_payloads` seals to and opens with.
fn anon_secret() -> &'static peerster_core::crypto::EpochSecret {
    static SECRET: std::sync::OnceLock<peerster_core::crypto::EpochSecret> =
        std::sync::OnceLock::new();
    SECRET.get_or_init(|| peerster_core::crypto::EpochSecret::from_bytes([0x45; 32]))
}

/// The HPKE `info` of an anonymous packet of `cluster`, as `wire::anon` builds it (private
/// there): `"peerster/anon/v1" ‖ cluster id (big-endian)`. Checked against `seal_anon` on
/// first use, so a change in core fails loudly here rather than making the harness's raw
/// packets silently unopenable.
fn anon_info(cluster: peerster_core::ids::ClusterId) -> Vec<u8> {
    use peerster_core::wire::anon::{AnonAck, AnonPayload, seal_anon};
    use rand_core::SeedableRng;

    let info = |cluster: peerster_core::ids::ClusterId| {
        let mut info = b"peerster/anon/v1".to_vec();
        info.extend_from_slice(&cluster.0.to_be_bytes());
        info
    };
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let secret = anon_secret();
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x46; 32]);
        let payload = AnonPayload::Ack(AnonAck { message: [1; 16] });
        let packet = seal_anon(&mut rng, &secret.public(), ANON_CLUSTER, [2; 16], &payload)
            .expect("an ack seals");
        let (tag, sealed) = packet.as_bytes().split_at(16);
        assert!(
            secret.open(&info(ANON_CLUSTER), tag, sealed).is_ok(),
            "the harness's copy of the anonymous packet `info` is out of date"
        );
    });
    info(cluster)
}

/// Seals `plaintext` (any bytes, not necessarily a padded payload) to `recipient` as the body
/// of an anonymous packet of `cluster` with detection tag `tag`, as `seal_anon` would seal a
/// padded payload. `None` if the plaintext is not [`ANON_PLAINTEXT_LEN`] bytes or the key has
/// low order.
///
/// [`ANON_PLAINTEXT_LEN`]: peerster_core::wire::anon::ANON_PLAINTEXT_LEN
fn seal_raw_anon<R: rand_core::CryptoRng>(
    rng: &mut R,
    recipient: &peerster_core::crypto::EpochPublic,
    cluster: peerster_core::ids::ClusterId,
    tag: [u8; 16],
    plaintext: &[u8],
) -> Option<peerster_core::wire::anon::AnonPacket> {
    use peerster_core::crypto::seal_to;
    use peerster_core::wire::anon::{ANON_PLAINTEXT_LEN, AnonPacket};

    if plaintext.len() != ANON_PLAINTEXT_LEN {
        return None;
    }
    let sealed = seal_to(rng, recipient, &anon_info(cluster), &tag, plaintext).ok()?;
    let packet = AnonPacket::from_bytes(&[&tag[..], &sealed].concat());
    assert!(
        packet.is_some(),
        "a sealed plaintext fills exactly one packet"
    );
    packet
}

/// `bytes` cut or zero-extended to exactly `len` bytes.
fn fitted(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out = bytes[..bytes.len().min(len)].to_vec();
    out.resize(len, 0);
    out
}

/// Any bytes into the decoders of anonymous traffic and into `open_anon`: never a panic, and
/// whatever decodes re-encodes to the same bytes (one encoding per payload). The first byte
/// picks what (`% 6`):
///
/// - 0, 1: an [`AnonRelay`] or an [`AnonSync`];
/// - 2: an [`AnonPayload`], which must also seal into one packet and open back exactly when
///   it fits the padded plaintext;
/// - 3: an [`AnonMessage`], which is within [`MAX_ANON_MESSAGE_BYTES`] and whose largest
///   fragment seals into one packet and opens back;
/// - 4: a [`ClusterFrame`], the frame that carries relays and syncs;
/// - 5: a packet (the bytes cut or zero-extended to 512) opened with a fixed secret; with bit
///   `0x10` set, the bytes are instead a detection tag and a padded plaintext sealed to that
///   secret, which must open to exactly what the plaintext decodes to.
///
/// With bit `0x10` set, a relay, sync or frame that decodes also goes through a sealed frame
/// of the smallest bucket that holds it and back.
///
/// [`AnonRelay`]: peerster_core::wire::anon::AnonRelay
/// [`AnonSync`]: peerster_core::wire::anon::AnonSync
/// [`AnonPayload`]: peerster_core::wire::anon::AnonPayload
/// [`AnonMessage`]: peerster_core::wire::anon::AnonMessage
/// [`MAX_ANON_MESSAGE_BYTES`]: peerster_core::wire::anon::MAX_ANON_MESSAGE_BYTES
/// [`ClusterFrame`]: peerster_core::wire::cluster::ClusterFrame
pub fn anon_payloads(data: &[u8]) {
    use peerster_core::wire::anon::{AnonRelay, AnonSync};
    use peerster_core::wire::cluster::ClusterFrame;

    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let seal = selector & 0x10 != 0;
    match selector % 6 {
        0 => payload_round_trip::<AnonRelay>(bytes, seal, false),
        1 => payload_round_trip::<AnonSync>(bytes, seal, false),
        2 => anon_payload(bytes),
        3 => anon_message(bytes),
        4 => payload_round_trip::<ClusterFrame>(bytes, seal, false),
        _ => anon_packet(bytes, seal),
    }
}

/// An anonymous payload that decodes re-encodes to its bytes, and seals (to the fixed secret)
/// into one packet that opens back to it, exactly when it fits the padded plaintext.
fn anon_payload(bytes: &[u8]) {
    use peerster_core::wire::anon::AnonPayload;

    let Ok(payload) = wire::decode_payload::<AnonPayload>(bytes) else {
        return;
    };
    payload_round_trip::<AnonPayload>(bytes, false, false);
    seal_and_open(&payload, bytes.len());
}

/// Seals `payload` (`encoded_len` bytes encoded) to the fixed secret: it seals exactly when it
/// fits the padded plaintext, into a packet with the tag asked for that only its recipient, in
/// its cluster, opens back to it.
fn seal_and_open(payload: &peerster_core::wire::anon::AnonPayload, encoded_len: usize) {
    use peerster_core::ids::ClusterId;
    use peerster_core::wire::DecodeError;
    use peerster_core::wire::anon::{
        ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonPacket, detection_tag, open_anon, seal_anon,
    };
    use peerster_core::wire::padding::LENGTH_PREFIX;
    use rand_core::SeedableRng;

    let secret = anon_secret();
    let public = secret.public();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x47; 32]);
    let tag = detection_tag(&public, encoded_len as u32);
    let fits = encoded_len + LENGTH_PREFIX <= ANON_PLAINTEXT_LEN;
    let packet = match seal_anon(&mut rng, &public, ANON_CLUSTER, tag, payload) {
        Ok(packet) => packet,
        Err(error) => {
            assert!(
                !fits,
                "a payload of {encoded_len} bytes does not seal: {error}"
            );
            return;
        }
    };
    assert!(
        fits,
        "a payload of {encoded_len} bytes sealed into a packet"
    );
    assert_eq!(packet.as_bytes().len(), ANON_PACKET_LEN);
    assert_eq!(packet.tag(), tag);
    let opened = open_anon(secret, ANON_CLUSTER, &packet).expect("its recipient opens a packet");
    assert_eq!(&opened, payload);
    assert_eq!(
        open_anon(secret, ClusterId(ANON_CLUSTER.0 ^ 1), &packet),
        Err(DecodeError::Unauthenticated),
        "a packet opened in another cluster"
    );
    // The packet as the wire carries it, in a relay.
    let encoded = wire::encode_payload(&packet).expect("a packet encodes");
    let decoded = wire::decode_payload::<AnonPacket>(&encoded).expect("a packet decodes");
    assert_eq!(decoded, packet);
}

/// An anonymous message that decodes re-encodes to its bytes, is within the bound of a
/// message, is cut into no more than the most fragments, and its largest fragment seals into
/// one packet. Checking a signature it carries never panics.
fn anon_message(bytes: &[u8]) {
    use peerster_core::wire::anon::{
        ANON_FRAGMENT_BYTES, AnonMessage, AnonPayload, MAX_ANON_FRAGMENTS, MAX_ANON_MESSAGE_BYTES,
        signed_bytes,
    };
    use peerster_core::wire::fragment;

    let Ok(message) = wire::decode_payload::<AnonMessage>(bytes) else {
        return;
    };
    payload_round_trip::<AnonMessage>(bytes, false, false);
    assert!(
        bytes.len() <= MAX_ANON_MESSAGE_BYTES,
        "a message of {} bytes",
        bytes.len()
    );
    let id = [0x48; 16];
    let pieces = fragment::split(id, bytes, ANON_FRAGMENT_BYTES).expect("a message splits");
    assert!(pieces.len() <= MAX_ANON_FRAGMENTS);
    let largest = pieces
        .into_iter()
        .map(|piece| {
            let payload = AnonPayload::Fragment(piece);
            let len = wire::encode_payload(&payload)
                .expect("a fragment encodes")
                .len();
            (len, payload)
        })
        .max_by_key(|(len, _)| *len);
    if let Some((len, payload)) = largest {
        seal_and_open(&payload, len);
    }
    if let Some(signer) = &message.signer {
        let signed = signed_bytes(
            &anon_secret().public(),
            &id,
            &message.thread,
            &message.reply_key,
            &message.body,
        );
        let _ = signer.identity.verify(&signed, &signer.signature);
    }
}

/// A packet opened with the fixed secret: never a panic. Without `seal`, the bytes are the
/// packet; with it, they are a detection tag and a plaintext sealed to the secret, which opens
/// to what the plaintext decodes to (its padding removed), and only to that.
fn anon_packet(bytes: &[u8], seal: bool) {
    use peerster_core::wire::anon::{
        ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonPacket, AnonPayload, DETECTION_TAG_LEN, open_anon,
    };
    use peerster_core::wire::padding;
    use rand_core::SeedableRng;

    let secret = anon_secret();
    if !seal {
        // The bytes as the wire type, then as a packet's bytes.
        payload_round_trip::<AnonPacket>(bytes, false, false);
        let raw = fitted(bytes, ANON_PACKET_LEN);
        let packet = AnonPacket::from_bytes(&raw).expect("a packet's length");
        assert_eq!(&packet.as_bytes()[..], &raw[..]);
        if let Ok(payload) = open_anon(secret, ANON_CLUSTER, &packet) {
            let encoded = wire::encode_payload(&payload).expect("an opened payload encodes");
            assert!(encoded.len() + padding::LENGTH_PREFIX <= ANON_PLAINTEXT_LEN);
        }
        return;
    }
    let mut tag = [0u8; DETECTION_TAG_LEN];
    tag.copy_from_slice(&fitted(bytes, DETECTION_TAG_LEN));
    let plaintext = fitted(
        bytes.get(DETECTION_TAG_LEN..).unwrap_or_default(),
        ANON_PLAINTEXT_LEN,
    );
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x49; 32]);
    let packet = seal_raw_anon(&mut rng, &secret.public(), ANON_CLUSTER, tag, &plaintext)
        .expect("the fixed key seals");
    assert_eq!(packet.tag(), tag);
    let expected = padding::unpad(&plaintext)
        .ok()
        .and_then(|p| wire::decode_payload::<AnonPayload>(p).ok());
    assert_eq!(open_anon(secret, ANON_CLUSTER, &packet).ok(), expected);
}

/// Keys and identities every `cluster_member` run uses, derived once (the derivation is
/// deterministic, so caching it changes no run).
struct Fixtures {
    /// Identities: 0 and 1 are the two real nodes, the others outsiders.
    identities: Vec<IdentityKey>,
    /// The public node key of each identity.
    node_keys: Vec<peerster_core::crypto::EpochPublic>,
    /// X25519 keys outsiders use as join keys or epoch keys.
    secrets: Vec<peerster_core::crypto::EpochSecret>,
    /// Their public halves.
    secret_publics: Vec<peerster_core::crypto::EpochPublic>,
}

fn fixtures() -> &'static Fixtures {
    use peerster_core::crypto::EpochSecret;
    static FIXTURES: std::sync::OnceLock<Fixtures> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(|| {
        let identities: Vec<IdentityKey> = (0..4u8)
            .map(|i| IdentityKey::from_secret_bytes([0xa0 + i; 32]))
            .collect();
        let node_keys = identities.iter().map(|i| i.node_key().public()).collect();
        let secrets: Vec<EpochSecret> = (0..3u8)
            .map(|i| EpochSecret::from_bytes([0xc0 + i; 32]))
            .collect();
        let secret_publics = secrets.iter().map(EpochSecret::public).collect();
        Fixtures {
            identities,
            node_keys,
            secrets,
            secret_publics,
        }
    })
}

/// The address of real node `i` (0 or 1).
fn real_addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1 + i as u8], 7000))
}

/// One input to a real node while the cluster forms, recorded to be replayed.
#[derive(Clone, Debug)]
enum SetupInput {
    Datagram {
        now: Timestamp,
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    Timeout {
        now: Timestamp,
    },
    Join {
        now: Timestamp,
        contact: SocketAddr,
    },
    AnswerJoin {
        now: Timestamp,
        joiner: peerster_core::ids::MemberId,
    },
}

/// How the cluster formed: each real node's inputs, and what came of them.
struct Formation {
    inputs: [Vec<SetupInput>; 2],
    now: Timestamp,
    info: [Option<peerster_core::ClusterInfo>; 2],
    stats: [peerster_core::Stats; 2],
}

/// Real node `i` as it starts: announced, node 0 founding a cluster with member `limit`,
/// node 1 connecting to node 0.
fn setup_node(i: usize, limit: Option<u16>, admission: peerster_core::Admission) -> Node {
    let now = Timestamp::ZERO;
    let config = Config {
        admission,
        ..Config::default()
    };
    let identity = fixtures().identities[i].clone();
    let mut node = Node::new(config, identity, [0x50 + i as u8; 32], now).expect("valid config");
    node.announce(now, "fuzz").expect("a short name");
    if i == 0 {
        node.create_cluster(now, limit).expect("a valid limit");
    } else {
        node.connect(now, real_addr(0));
    }
    node
}

/// Gives `node` one recorded input. Returns whether a command succeeded.
fn apply_setup_input(node: &mut Node, input: &SetupInput) -> bool {
    match input {
        SetupInput::Datagram { now, from, bytes } => {
            node.handle_datagram(*now, *from, bytes);
            true
        }
        SetupInput::Timeout { now } => {
            node.handle_timeout(*now);
            true
        }
        SetupInput::Join { now, contact } => node.join(*now, *contact).is_ok(),
        SetupInput::AnswerJoin { now, joiner } => node.answer_join(*now, *joiner, true).is_ok(),
    }
}

/// Forms a cluster of the two real nodes: node 1 joins through node 0 once it has verified
/// node 0 and holds its announcement. Datagrams move by hand with no delay; when none is in
/// flight the clock jumps to the next deadline. Records every node's inputs.
fn form_cluster(limit: Option<u16>, admission: [peerster_core::Admission; 2]) -> Formation {
    use peerster_core::Event;

    let mut nodes = [0, 1].map(|i| setup_node(i, limit, admission[i]));
    let mut inputs: [Vec<SetupInput>; 2] = [Vec::new(), Vec::new()];
    let mut now = Timestamp::ZERO;
    let mut joining = false;
    for _ in 0..256 {
        if nodes[1].cluster().is_some() {
            while nodes[0].poll_transmit().is_some() {}
            while nodes[0].poll_event().is_some() {}
            return Formation {
                info: [nodes[0].cluster(), nodes[1].cluster()],
                stats: [nodes[0].stats(), nodes[1].stats()],
                inputs,
                now,
            };
        }
        if !joining {
            let join = SetupInput::Join {
                now,
                contact: real_addr(0),
            };
            if nodes[1].join(now, real_addr(0)).is_ok() {
                inputs[1].push(join);
                joining = true;
            }
        }
        let mut moved = false;
        for i in 0..2 {
            let outgoing: Vec<_> = std::iter::from_fn(|| nodes[i].poll_transmit()).collect();
            for t in outgoing {
                if t.destination == real_addr(1 - i) {
                    let input = SetupInput::Datagram {
                        now,
                        from: real_addr(i),
                        bytes: t.payload,
                    };
                    apply_setup_input(&mut nodes[1 - i], &input);
                    inputs[1 - i].push(input);
                    moved = true;
                }
            }
            let events: Vec<_> = std::iter::from_fn(|| nodes[i].poll_event()).collect();
            for event in events {
                if let Event::JoinRequested { joiner, .. } = event {
                    let input = SetupInput::AnswerJoin { now, joiner };
                    assert!(apply_setup_input(&mut nodes[i], &input));
                    inputs[i].push(input);
                }
            }
        }
        if !moved {
            now = nodes
                .iter()
                .filter_map(Node::poll_timeout)
                .min()
                .expect("nodes have deadlines")
                .max(now);
            for i in 0..2 {
                if nodes[i].poll_timeout().is_some_and(|t| t <= now) {
                    let input = SetupInput::Timeout { now };
                    apply_setup_input(&mut nodes[i], &input);
                    inputs[i].push(input);
                }
            }
        }
    }
    panic!("the cluster did not form");
}

/// The formation for a member limit and the nodes' admission policies, recorded on first use.
/// Cached across runs: `Node` is deterministic, and [`replay_node`] checks that a replay ends
/// where the recording did.
fn formation(limit: Option<u16>, admission: [peerster_core::Admission; 2]) -> &'static Formation {
    type Key = (Option<u16>, [peerster_core::Admission; 2]);
    static FORMATIONS: std::sync::Mutex<Vec<(Key, &'static Formation)>> =
        std::sync::Mutex::new(Vec::new());
    let key = (limit, admission);
    let mut formations = FORMATIONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, formation)) = formations.iter().find(|(k, _)| *k == key) {
        return formation;
    }
    let formation: &'static Formation = Box::leak(Box::new(form_cluster(limit, admission)));
    formations.push((key, formation));
    formation
}

/// Real node `i` of a formation, rebuilt by replaying its inputs.
fn replay_node(
    i: usize,
    limit: Option<u16>,
    admission: [peerster_core::Admission; 2],
    formation: &Formation,
) -> Node {
    let mut node = setup_node(i, limit, admission[i]);
    for input in &formation.inputs[i] {
        assert!(
            apply_setup_input(&mut node, input),
            "a recorded command succeeds again"
        );
        // What it sent then was delivered then.
        while node.poll_transmit().is_some() {}
        while node.poll_event().is_some() {}
    }
    assert_eq!(node.cluster(), formation.info[i], "the replay diverged");
    assert_eq!(node.stats(), formation.stats[i], "the replay diverged");
    node
}

/// Which cluster id a message names: the real one, 15 times in 16.
#[derive(Debug)]
pub enum ClusterChoice {
    /// The node's cluster.
    Real,
    /// Another id.
    Other(u64),
}

impl<'a> Arbitrary<'a> for ClusterChoice {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(if u.ratio(15u8, 16)? {
            ClusterChoice::Real
        } else {
            ClusterChoice::Other(u.arbitrary()?)
        })
    }
}

/// Which epoch a message names, relative to the node's current one.
#[derive(Debug, Arbitrary)]
pub enum EpochChoice {
    /// The current epoch.
    Current,
    /// The next epoch.
    Next,
    /// The previous epoch.
    Previous,
    /// Any epoch.
    Other(u64),
}

/// Which member id a message names.
#[derive(Debug, Arbitrary)]
pub enum MemberChoice {
    /// The fuzzed node.
    Me,
    /// The other real node.
    Peer,
    /// One of the node's member table.
    Table(u8),
    /// One of the fixture identities.
    Pool(u8),
    /// Any id.
    Raw([u8; 16]),
}

/// Which identity a message names.
#[derive(Debug, Arbitrary)]
pub enum IdentityChoice {
    /// One of the fixture identities (0 and 1 are the real nodes).
    Pool(u8),
    /// Any bytes (an outsider if they are a valid key).
    Raw([u8; 32]),
}

/// Which X25519 public key a message names or is sealed to.
#[derive(Debug, Arbitrary)]
pub enum PublicKeyChoice {
    /// The fuzzed node's node key.
    MyNodeKey,
    /// The fuzzed node's epoch key (from its member table).
    MyEpochKey,
    /// The epoch key of a member of the table.
    Member(u8),
    /// The node key of a fixture identity.
    NodeKey(u8),
    /// One of the fixture outsiders' keys.
    Pool(u8),
    /// Any bytes.
    Raw([u8; 32]),
}

/// Who signs a message.
#[derive(Debug, Arbitrary)]
pub enum Signer {
    /// The identity the message names as its author, if a fixture.
    Named,
    /// One of the fixture identities.
    Pool(u8),
    /// Arbitrary signature bytes.
    Raw([u8; 64]),
}

/// Where a datagram comes from.
#[derive(Debug, Arbitrary)]
pub enum AddrChoice {
    /// The other real node.
    Peer,
    /// The address of a member of the table.
    Member(u8),
    /// An address no member has.
    Stranger(u8),
}

/// Which key seals a frame.
#[derive(Debug, Arbitrary)]
pub enum KeyChoice {
    /// The node's current cluster key.
    Current,
    /// A cluster key the node held before.
    Previous(u8),
    /// Any key.
    Random([u8; 32]),
}

/// A member limit a rollout names.
#[derive(Debug, Arbitrary)]
pub enum LimitChoice {
    /// The cluster's.
    Same,
    /// Another.
    Other(Option<u16>),
}

/// A frame body, built from fuzzer choices.
#[derive(Debug, Arbitrary)]
pub enum BodySpec {
    /// A heartbeat.
    Heartbeat {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// Epoch named inside.
        epoch: EpochChoice,
        /// The member it is from.
        member: MemberChoice,
        /// Its counter.
        counter: u64,
    },
    /// A fragment with arbitrary fields.
    Fragment {
        /// Message id (repeated over 16 bytes).
        message: u8,
        /// Index.
        index: u16,
        /// Count.
        count: u16,
        /// Content.
        bytes: Vec<u8>,
    },
    /// A key request.
    KeyRequest {
        /// The leader named.
        leader: MemberChoice,
        /// The target epoch.
        target: EpochChoice,
    },
    /// A key offer.
    KeyOffer {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// The target epoch.
        target: EpochChoice,
        /// The leader it is offered to.
        leader: MemberChoice,
        /// The member offering.
        member: MemberChoice,
        /// The key offered.
        key: PublicKeyChoice,
    },
    /// A post sync.
    PostSync {
        /// The sender named.
        member: MemberChoice,
        /// First index.
        first: u16,
        /// Last index.
        last: u16,
        /// Heads: (index, epoch, seq).
        heads: Vec<(u16, EpochChoice, u32)>,
        /// Reply wanted.
        reply_wanted: bool,
    },
    /// An anonymous packet on its way.
    Anon {
        /// The epoch the relay names.
        epoch: RelayEpochChoice,
        /// Where the packet is on its way.
        phase: PhaseSpec,
        /// The packet.
        packet: PacketSpec,
    },
    /// Anti-entropy of stored anonymous packets.
    AnonSync {
        /// The sender named.
        member: MemberChoice,
        /// Packets held (`None`: as many as listed).
        total: Option<u32>,
        /// XOR of their short digests (`None`: of those listed).
        fingerprint: Option<u64>,
        /// The first short digest covered.
        from: u64,
        /// Short digests listed.
        ids: Vec<u64>,
        /// Also list the short digests of known packets (bit i: the i-th newest of the
        /// first eight).
        known: u8,
        /// Sort the list and drop repeats.
        sorted: bool,
        /// The listing runs to the end of the digest space.
        to_end: bool,
        /// Reply wanted.
        reply_wanted: bool,
    },
}

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
    fn phase(&self) -> peerster_core::wire::anon::RelayPhase {
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

/// One member of a rollout beyond those kept from the table.
#[derive(Debug, Arbitrary)]
pub struct EntrySpec {
    /// Its identity.
    pub identity: IdentityChoice,
    /// Its epoch key.
    pub epoch_key: PublicKeyChoice,
    /// Its address.
    pub addr: AddrChoice,
    /// The epoch it joined in.
    pub joined: EpochChoice,
    /// Whether the new key is sealed to it properly (else garbage).
    pub garbage_key: bool,
}

/// A flooded object, built from fuzzer choices.
#[derive(Debug, Arbitrary)]
pub enum FloodSpec {
    /// A post.
    Post {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// The author.
        author: MemberChoice,
        /// Epoch of its position.
        epoch: EpochChoice,
        /// Sequence number of its position.
        seq: u32,
        /// The previous post's position.
        prev: Option<(EpochChoice, u32)>,
        /// The text (not necessarily UTF-8).
        text: Vec<u8>,
    },
    /// A rollout.
    Rollout {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// The epoch it opens.
        epoch: EpochChoice,
        /// Its leader.
        leader: MemberChoice,
        /// Its member limit.
        limit: LimitChoice,
        /// Table members left out (bit i: the i-th member).
        drop: u8,
        /// Members added.
        extra: Vec<EntrySpec>,
        /// Leave the entries in the order built, repeats included.
        unsorted: bool,
    },
    /// An admission.
    Admit {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// Epoch named inside.
        epoch: EpochChoice,
        /// The contact.
        contact: MemberChoice,
        /// The joiner.
        joiner: IdentityChoice,
        /// The joiner's key.
        join_key: PublicKeyChoice,
        /// The joiner's address.
        addr: AddrChoice,
    },
    /// A leave.
    Leave {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// Epoch named inside.
        epoch: EpochChoice,
        /// The member leaving.
        member: MemberChoice,
    },
}

/// How a flooded object is cut into fragments and which of them are delivered.
#[derive(Debug, Arbitrary)]
pub struct Cutting {
    /// Message id (repeated over 16 bytes).
    pub message: u8,
    /// Bytes per fragment (0: as many as fit).
    pub per_fragment: u16,
    /// Fragments not delivered (bit i: the i-th of the first eight).
    pub skip: u8,
    /// Deliver the fragments last first.
    pub reverse: bool,
}

/// A join message, built from fuzzer choices.
#[derive(Debug, Arbitrary)]
pub enum JoinSpec {
    /// A join request.
    Request {
        /// Who signs it.
        signer: Signer,
        /// The joiner.
        joiner: IdentityChoice,
        /// The contact named.
        contact: MemberChoice,
        /// The contact address named.
        contact_addr: AddrChoice,
        /// The joiner's join key.
        join_key: PublicKeyChoice,
    },
    /// A refusal.
    Refusal {
        /// Who signs it.
        signer: Signer,
        /// The contact named.
        contact: MemberChoice,
        /// The join key named.
        join_key: PublicKeyChoice,
        /// The reason (mod 3).
        reason: u8,
    },
    /// The fragments of a welcome (any flooded object, a rollout being the real one).
    Welcome {
        /// Which of its sender's welcomes it is.
        seq: u32,
        /// What it carries.
        object: FloodSpec,
        /// How it is cut.
        cutting: Cutting,
    },
    /// One welcome fragment with arbitrary fields.
    RawWelcome {
        /// Which of its sender's welcomes it is.
        seq: u32,
        /// Message id (repeated over 16 bytes).
        message: u8,
        /// Index.
        index: u16,
        /// Count.
        count: u16,
        /// Content.
        bytes: Vec<u8>,
    },
}

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
    /// Answer a join request.
    AnswerJoin {
        /// The joiner.
        joiner: MemberChoice,
        /// Accept it.
        accept: bool,
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
    /// How the fuzzed node answers join requests (`% 3`: accept all, ask, refuse all).
    pub admission: u8,
}

/// The fuzzed member and what the harness knows around it.
struct MemberWorld {
    now: Timestamp,
    /// The fuzzed node.
    node: Node,
    /// The other real node, rebuilt from the formation when first needed.
    peer: Option<Node>,
    me: usize,
    formation: &'static Formation,
    limit: Option<u16>,
    admission: [peerster_core::Admission; 2],
    buckets: Vec<usize>,
    rng: rand_chacha::ChaCha20Rng,
    /// Cluster keys the fuzzed node held, oldest first.
    keys: Vec<peerster_core::crypto::ClusterKey>,
    /// Datagrams the fuzzed node has been given.
    received: u64,
    /// Datagrams from the fuzzed node to the other real node, not delivered yet.
    to_peer: std::collections::VecDeque<Vec<u8>>,
    /// The last datagrams the real nodes sent, newest last.
    recent: std::collections::VecDeque<Vec<u8>>,
    /// What the harness knows of the node's anonymous conversations.
    anon: AnonKnowledge,
}

/// A message of the fuzzed node that the harness opened: sealed to a fixture key.
#[derive(Clone, Copy, Debug)]
struct Heard {
    message: peerster_core::wire::fragment::MessageId,
    /// The reply key it carries: the node opens what is sealed to it.
    reply_key: peerster_core::crypto::EpochPublic,
}

/// What the harness knows of the fuzzed node's anonymous conversations, and what it checks of
/// them: the node reports the delivery or the failure of its own messages only, in their
/// threads, each at most once, and no failure of a delivered message (a delivery after a
/// failure is a late acknowledgement, which is reported).
struct AnonKnowledge {
    /// Threads the node knows (it opened them or was written to in them), newest last.
    threads: std::collections::VecDeque<peerster_core::wire::anon::ThreadId>,
    /// Every message the node sent, and its thread.
    sent: Vec<(
        peerster_core::wire::fragment::MessageId,
        peerster_core::wire::anon::ThreadId,
    )>,
    /// Messages reported delivered.
    delivered: std::collections::BTreeSet<peerster_core::wire::fragment::MessageId>,
    /// Messages reported given up.
    failed: std::collections::BTreeSet<peerster_core::wire::fragment::MessageId>,
    /// The node's messages the harness opened, newest last.
    heard: std::collections::VecDeque<Heard>,
    /// Fragments of the node's messages sealed to fixture keys.
    overheard: peerster_core::wire::fragment::Reassembler,
    /// The last packets sent to or by the node, with the epoch of their relay, newest last.
    packets: std::collections::VecDeque<(
        peerster_core::ids::Epoch,
        peerster_core::wire::anon::AnonPacket,
    )>,
    /// Digests of the packets sent to or by the node: each is opened once, and the harness
    /// never takes a packet it made for one of the node's.
    seen: std::collections::BTreeSet<peerster_core::wire::anon::PacketDigest>,
    /// Fixture secrets the harness handed out as reply keys (bit i: secret i).
    reply_keys: u8,
}

impl AnonKnowledge {
    fn new() -> Self {
        use peerster_core::wire::anon::MAX_ANON_MESSAGE_BYTES;
        use peerster_core::wire::fragment::{Reassembler, ReassemblyLimits};
        AnonKnowledge {
            threads: std::collections::VecDeque::new(),
            sent: Vec::new(),
            delivered: std::collections::BTreeSet::new(),
            failed: std::collections::BTreeSet::new(),
            heard: std::collections::VecDeque::new(),
            overheard: Reassembler::new(ReassemblyLimits {
                max_messages: 8,
                max_message_bytes: MAX_ANON_MESSAGE_BYTES,
                timeout: Duration::from_secs(600),
                remember_completed: 32,
            }),
            packets: std::collections::VecDeque::new(),
            seen: std::collections::BTreeSet::new(),
            reply_keys: 0,
        }
    }

    fn thread(&mut self, thread: peerster_core::wire::anon::ThreadId) {
        if !self.threads.contains(&thread) {
            if self.threads.len() >= 16 {
                self.threads.pop_front();
            }
            self.threads.push_back(thread);
        }
    }

    /// Notes a packet sent to or by the node; whether it is new.
    fn packet(
        &mut self,
        epoch: peerster_core::ids::Epoch,
        packet: &peerster_core::wire::anon::AnonPacket,
    ) -> bool {
        if !self.seen.insert(packet.digest()) {
            return false;
        }
        if self.packets.len() >= 16 {
            self.packets.pop_front();
        }
        self.packets.push_back((epoch, packet.clone()));
        true
    }

    /// Checks an event of the node about its anonymous messages.
    fn event(&mut self, event: &peerster_core::Event) {
        use peerster_core::Event;
        match event {
            Event::AnonMessage { thread, .. } => self.thread(*thread),
            Event::AnonDelivered { thread, message } => {
                assert!(
                    self.sent.contains(&(*message, *thread)),
                    "a delivery reported of a message the node did not send in that thread"
                );
                assert!(self.delivered.insert(*message), "a delivery reported twice");
            }
            Event::AnonFailed {
                thread, message, ..
            } => {
                assert!(
                    self.sent.contains(&(*message, *thread)),
                    "a failure reported of a message the node did not send in that thread"
                );
                assert!(
                    !self.delivered.contains(message),
                    "a delivered message reported given up"
                );
                assert!(self.failed.insert(*message), "a failure reported twice");
            }
            _ => {}
        }
    }
}

/// What the node says of the anonymity of its next message holds together: an estimate
/// exactly when it is in a cluster, counting at least itself and at most its table.
fn check_anonymity(node: &Node, now: Timestamp) {
    let estimate = node.anonymity(now);
    let info = node.cluster();
    assert_eq!(
        estimate.is_some(),
        info.is_some(),
        "an anonymity estimate out of a cluster, or none in one"
    );
    let (Some(estimate), Some(info)) = (estimate, info) else {
        return;
    };
    assert!(
        (1..=info.members.len()).contains(&estimate.live_members),
        "{} live members of {}",
        estimate.live_members,
        info.members.len()
    );
    assert_eq!(estimate.anonymity_set, estimate.live_members - 1);
    assert!((0.0..=1.0).contains(&estimate.first_spy_precision));
    assert_eq!(
        estimate.low,
        estimate.anonymity_set < node.config().min_anonymity_set
    );
}

/// Bytes of a flooded object per fragment, so that a fragment in a cluster frame (or a join
/// frame) fits the largest bucket.
const FRAGMENT_ROOM: usize = 1107;

impl MemberWorld {
    fn info(&self) -> Option<peerster_core::ClusterInfo> {
        self.node.cluster()
    }

    fn cluster_id(&self, choice: &ClusterChoice) -> peerster_core::ids::ClusterId {
        use peerster_core::ids::ClusterId;
        match choice {
            ClusterChoice::Real => self.info().map_or(ClusterId(0), |i| i.id),
            ClusterChoice::Other(id) => ClusterId(*id),
        }
    }

    fn epoch(&self, choice: &EpochChoice) -> peerster_core::ids::Epoch {
        use peerster_core::ids::Epoch;
        let current = self.info().map_or(0, |i| i.epoch.0);
        Epoch(match choice {
            EpochChoice::Current => current,
            EpochChoice::Next => current.saturating_add(1),
            EpochChoice::Previous => current.saturating_sub(1),
            EpochChoice::Other(e) => *e,
        })
    }

    fn member(&self, choice: &MemberChoice) -> peerster_core::ids::MemberId {
        use peerster_core::ids::MemberId;
        let fx = fixtures();
        match choice {
            MemberChoice::Me => self.node.id(),
            MemberChoice::Peer => fx.identities[1 - self.me].public().member_id(),
            MemberChoice::Table(i) => {
                let members = self.info().map(|i| i.members).unwrap_or_default();
                members
                    .get(usize::from(*i) % members.len().max(1))
                    .map_or(self.node.id(), |m| m.id)
            }
            MemberChoice::Pool(i) => fx.identities[usize::from(*i) % fx.identities.len()]
                .public()
                .member_id(),
            MemberChoice::Raw(bytes) => MemberId(*bytes),
        }
    }

    fn identity(&self, choice: &IdentityChoice) -> peerster_core::crypto::PublicIdentity {
        use peerster_core::crypto::PublicIdentity;
        let fx = fixtures();
        match choice {
            IdentityChoice::Pool(i) => {
                fx.identities[usize::from(*i) % fx.identities.len()].public()
            }
            IdentityChoice::Raw(bytes) => {
                PublicIdentity::from_bytes(*bytes).unwrap_or_else(|_| fx.identities[2].public())
            }
        }
    }

    fn public_key(&self, choice: &PublicKeyChoice) -> peerster_core::crypto::EpochPublic {
        use peerster_core::crypto::EpochPublic;
        let fx = fixtures();
        let members = self.info().map(|i| i.members).unwrap_or_default();
        match choice {
            PublicKeyChoice::MyNodeKey => fx.node_keys[self.me],
            PublicKeyChoice::MyEpochKey => members
                .iter()
                .find(|m| m.id == self.node.id())
                .map_or(fx.node_keys[self.me], |m| m.epoch_key),
            PublicKeyChoice::Member(i) => members
                .get(usize::from(*i) % members.len().max(1))
                .map_or(fx.node_keys[1 - self.me], |m| m.epoch_key),
            PublicKeyChoice::NodeKey(i) => fx.node_keys[usize::from(*i) % fx.node_keys.len()],
            PublicKeyChoice::Pool(i) => fx.secrets[usize::from(*i) % fx.secrets.len()].public(),
            PublicKeyChoice::Raw(bytes) => EpochPublic(*bytes),
        }
    }

    fn addr(&self, choice: &AddrChoice) -> SocketAddr {
        match choice {
            AddrChoice::Peer => real_addr(1 - self.me),
            AddrChoice::Member(i) => {
                let members = self.info().map(|i| i.members).unwrap_or_default();
                members
                    .get(usize::from(*i) % members.len().max(1))
                    .map_or(real_addr(1 - self.me), |m| m.addr)
            }
            AddrChoice::Stranger(i) => SocketAddr::from(([10, 0, 1, *i], 7000)),
        }
    }

    fn cluster_key(&mut self, choice: &KeyChoice) -> peerster_core::crypto::ClusterKey {
        use peerster_core::crypto::ClusterKey;
        match choice {
            KeyChoice::Current => self
                .node
                .cluster_key()
                .unwrap_or_else(|| ClusterKey::generate(&mut self.rng)),
            KeyChoice::Previous(i) => {
                let n = self.keys.len();
                // 0 is the one before the newest.
                let back = 2 + usize::from(*i) % n.max(1);
                self.keys
                    .get(n.saturating_sub(back))
                    .cloned()
                    .unwrap_or_else(|| ClusterKey::generate(&mut self.rng))
            }
            KeyChoice::Random(bytes) => ClusterKey::from_bytes(*bytes),
        }
    }

    fn sign<T: peerster_core::wire::cluster::SignedBody>(
        &self,
        signer: &Signer,
        author: peerster_core::ids::MemberId,
        body: T,
    ) -> peerster_core::wire::cluster::Signed<T> {
        use peerster_core::crypto::Signature;
        use peerster_core::wire::cluster::Signed;
        let fx = fixtures();
        let key = match signer {
            Signer::Named => fx
                .identities
                .iter()
                .find(|k| k.public().member_id() == author)
                .unwrap_or(&fx.identities[1 - self.me]),
            Signer::Pool(i) => &fx.identities[usize::from(*i) % fx.identities.len()],
            Signer::Raw(bytes) => {
                return Signed {
                    body,
                    signature: Signature::from_bytes(*bytes),
                };
            }
        };
        Signed::sign(key, body)
    }

    /// The frame body `spec` builds; `None` if it names an anonymous packet that cannot be
    /// sealed.
    fn body(&mut self, spec: BodySpec) -> Option<peerster_core::wire::cluster::FrameBody> {
        use peerster_core::wire::anon::{AnonRelay, AnonSync};
        use peerster_core::wire::cluster::{
            AuthorHead, FrameBody, Heartbeat, KeyOffer, KeyRequest, PostPosition, PostSync,
        };
        use peerster_core::wire::fragment::{Fragment, MAX_FRAGMENT_BYTES};
        use peerster_core::wire::{BoundedBytes, BoundedVec};
        Some(match spec {
            BodySpec::Heartbeat {
                signer,
                cluster,
                epoch,
                member,
                counter,
            } => {
                let member = self.member(&member);
                let heartbeat = Heartbeat {
                    cluster: self.cluster_id(&cluster),
                    epoch: self.epoch(&epoch),
                    member,
                    counter,
                };
                FrameBody::Heartbeat(self.sign(&signer, member, heartbeat))
            }
            BodySpec::Fragment {
                message,
                index,
                count,
                mut bytes,
            } => {
                bytes.truncate(MAX_FRAGMENT_BYTES);
                FrameBody::Fragment(Fragment {
                    message: [message; 16],
                    index,
                    count,
                    bytes: BoundedBytes::new(bytes).expect("truncated to the bound"),
                })
            }
            BodySpec::KeyRequest { leader, target } => FrameBody::KeyRequest(KeyRequest {
                leader: self.member(&leader),
                target: self.epoch(&target),
            }),
            BodySpec::KeyOffer {
                signer,
                cluster,
                target,
                leader,
                member,
                key,
            } => {
                let member = self.member(&member);
                let offer = KeyOffer {
                    cluster: self.cluster_id(&cluster),
                    target: self.epoch(&target),
                    leader: self.member(&leader),
                    member,
                    key: self.public_key(&key),
                };
                FrameBody::KeyOffer(self.sign(&signer, member, offer))
            }
            BodySpec::PostSync {
                member,
                first,
                last,
                heads,
                reply_wanted,
            } => FrameBody::PostSync(PostSync {
                member: self.member(&member),
                first,
                last,
                heads: BoundedVec::truncating(
                    heads
                        .iter()
                        .map(|(index, epoch, seq)| AuthorHead {
                            index: *index,
                            head: PostPosition {
                                epoch: self.epoch(epoch),
                                seq: *seq,
                            },
                        })
                        .collect(),
                ),
                reply_wanted,
            }),
            BodySpec::Anon {
                epoch,
                phase,
                packet,
            } => {
                let epoch = self.relay_epoch(&epoch);
                let packet = self.anon_packet(packet)?;
                self.anon.packet(epoch, &packet);
                FrameBody::Anon(AnonRelay {
                    epoch,
                    phase: phase.phase(),
                    packet,
                })
            }
            BodySpec::AnonSync {
                member,
                total,
                fingerprint,
                from,
                mut ids,
                known,
                sorted,
                to_end,
                reply_wanted,
            } => {
                let packets = &self.anon.packets;
                ids.extend(
                    packets
                        .iter()
                        .rev()
                        .take(8)
                        .enumerate()
                        .filter(|(i, _)| known & (1 << i) != 0)
                        .map(|(_, (_, packet))| packet.digest().short()),
                );
                if sorted {
                    ids.sort_unstable();
                    ids.dedup();
                }
                ids.truncate(AnonSync::MAX);
                FrameBody::AnonSync(AnonSync {
                    member: self.member(&member),
                    total: total.unwrap_or(ids.len() as u32),
                    fingerprint: fingerprint.unwrap_or(ids.iter().fold(0, |x, id| x ^ id)),
                    from,
                    ids: BoundedVec::truncating(ids),
                    to_end,
                    reply_wanted,
                })
            }
        })
    }

    fn relay_epoch(&self, choice: &RelayEpochChoice) -> peerster_core::ids::Epoch {
        use peerster_core::ids::Epoch;
        match choice {
            RelayEpochChoice::Near(offset) => {
                let current = self.epoch(&EpochChoice::Current);
                Epoch(current.0.saturating_add_signed((*offset).into()))
            }
            RelayEpochChoice::Other(epoch) => Epoch(*epoch),
        }
    }

    fn anon_key(&self, choice: &AnonKeyChoice) -> peerster_core::crypto::EpochPublic {
        match choice {
            AnonKeyChoice::Key(key) => self.public_key(key),
            AnonKeyChoice::Heard(i) => {
                let heard = &self.anon.heard;
                match heard.get(usize::from(*i) % heard.len().max(1)) {
                    Some(h) => h.reply_key,
                    None => self.public_key(&PublicKeyChoice::MyEpochKey),
                }
            }
        }
    }

    /// The detection tag of the `index`-th packet of a message sealed to `recipient`.
    fn anon_tag(
        &self,
        choice: &TagChoice,
        recipient: &peerster_core::crypto::EpochPublic,
        index: usize,
    ) -> peerster_core::wire::anon::DetectionTag {
        use peerster_core::wire::anon::detection_tag;
        match choice {
            TagChoice::Raw(tag) => *tag,
            TagChoice::Answer(i) => detection_tag(recipient, u32::from(*i) + index as u32),
        }
    }

    fn anon_message_id(
        &self,
        choice: &AnonMessageChoice,
    ) -> peerster_core::wire::fragment::MessageId {
        let pick = |i: u8, n: usize| usize::from(i) % n.max(1);
        match choice {
            AnonMessageChoice::Heard(i) => self
                .anon
                .heard
                .get(pick(*i, self.anon.heard.len()))
                .map_or([0; 16], |h| h.message),
            AnonMessageChoice::Sent(i) => self
                .anon
                .sent
                .get(pick(*i, self.anon.sent.len()))
                .map_or([0; 16], |s| s.0),
            AnonMessageChoice::Raw(id) => [*id; 16],
        }
    }

    fn thread(&self, choice: &ThreadChoice) -> peerster_core::wire::anon::ThreadId {
        match choice {
            ThreadChoice::Known(i) => {
                let threads = &self.anon.threads;
                threads
                    .get(usize::from(*i) % threads.len().max(1))
                    .copied()
                    .unwrap_or_default()
            }
            ThreadChoice::Raw(thread) => *thread,
        }
    }

    /// The anonymous packet `spec` builds, sealed for the node's cluster; `None` if its key has
    /// low order or its payload does not fit.
    fn anon_packet(&mut self, spec: PacketSpec) -> Option<peerster_core::wire::anon::AnonPacket> {
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::anon::{
            ANON_FRAGMENT_BYTES, ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonAck, AnonPacket,
            AnonPayload, seal_anon,
        };
        use peerster_core::wire::fragment::Fragment;
        use peerster_core::wire::padding;
        match spec {
            PacketSpec::Raw(bytes) => AnonPacket::from_bytes(&fitted(&bytes, ANON_PACKET_LEN)),
            PacketSpec::Known(i) => {
                let packets = &self.anon.packets;
                let n = packets.len();
                (n > 0).then(|| packets[n - 1 - usize::from(i) % n].1.clone())
            }
            PacketSpec::Sealed { to, tag, payload } => {
                let recipient = self.anon_key(&to);
                let tag = self.anon_tag(&tag, &recipient, 0);
                let cluster = self.cluster_id(&ClusterChoice::Real);
                let payload = match payload {
                    AnonPayloadSpec::Fragment {
                        message,
                        index,
                        count,
                        mut bytes,
                    } => {
                        bytes.truncate(ANON_FRAGMENT_BYTES);
                        AnonPayload::Fragment(Fragment {
                            message: self.anon_message_id(&message),
                            index,
                            count,
                            bytes: BoundedBytes::new(bytes).expect("truncated to the bound"),
                        })
                    }
                    AnonPayloadSpec::Ack { message } => AnonPayload::Ack(AnonAck {
                        message: self.anon_message_id(&message),
                    }),
                    AnonPayloadSpec::Plaintext { bytes, pad } => {
                        let plaintext = if pad {
                            padding::pad(&bytes, ANON_PLAINTEXT_LEN)?
                        } else {
                            fitted(&bytes, ANON_PLAINTEXT_LEN)
                        };
                        return seal_raw_anon(&mut self.rng, &recipient, cluster, tag, &plaintext);
                    }
                };
                seal_anon(&mut self.rng, &recipient, cluster, tag, &payload).ok()
            }
        }
    }

    /// The fragments of an anonymous message, each sealed to `recipient`.
    fn anon_message(
        &mut self,
        recipient: &peerster_core::crypto::EpochPublic,
        tag: &TagChoice,
        spec: AnonMessageSpec,
        cutting: &Cutting,
    ) -> Vec<peerster_core::wire::anon::AnonPacket> {
        use peerster_core::crypto::Signature;
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::anon::{
            ANON_FRAGMENT_BYTES, AnonBody, AnonMessage, AnonPayload, AnonSigner, MAX_ANON_TEXT,
            seal_anon, signed_bytes,
        };

        let fx = fixtures();
        if let PublicKeyChoice::Pool(i) = spec.reply_key {
            self.anon.reply_keys |= 1 << (usize::from(i) % fx.secrets.len());
        }
        let message = [cutting.message; 16];
        let thread = self.thread(&spec.thread);
        let reply_key = self.public_key(&spec.reply_key);
        let mut text = spec.text.repeat(1 + usize::from(spec.repeat % 64));
        text.truncate(MAX_ANON_TEXT);
        let body = AnonBody::Text(BoundedBytes::new(text).expect("truncated to the bound"));
        let signer = spec.signer.map(|signer| {
            let key = match signer {
                Signer::Named => &fx.identities[1 - self.me],
                Signer::Pool(i) => &fx.identities[usize::from(i) % fx.identities.len()],
                Signer::Raw(bytes) => {
                    return AnonSigner {
                        identity: fx.identities[1 - self.me].public(),
                        signature: Signature::from_bytes(bytes),
                    };
                }
            };
            let signed = signed_bytes(recipient, &message, &thread, &reply_key, &body);
            AnonSigner {
                identity: key.public(),
                signature: key.sign(&signed),
            }
        });
        let bytes = wire::encode_payload(&AnonMessage {
            thread,
            reply_key,
            body,
            signer,
        })
        .expect("a message encodes");
        let cluster = self.cluster_id(&ClusterChoice::Real);
        let mut packets = Vec::new();
        for (i, piece) in cut_bytes(&bytes, cutting, ANON_FRAGMENT_BYTES)
            .into_iter()
            .enumerate()
        {
            let tag = self.anon_tag(tag, recipient, i);
            let payload = AnonPayload::Fragment(piece);
            match seal_anon(&mut self.rng, recipient, cluster, tag, &payload) {
                Ok(packet) => packets.push(packet),
                // A low-order key.
                Err(_) => break,
            }
        }
        packets
    }

    /// Opens what the node sends in anonymous relays with the fixture secrets in play (handed
    /// out as reply keys, or epoch keys of members of its table), and remembers the messages
    /// of the node it finds: their reply keys let the harness answer.
    fn overhear(&mut self, datagram: &[u8]) {
        use peerster_core::wire::anon::{AnonMessage, AnonPayload, open_anon};
        use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
        use peerster_core::wire::{Packet, frame};

        let Ok(Packet::Sealed(sealed)) = wire::decode(datagram) else {
            return;
        };
        let Some(opened) = self
            .keys
            .iter()
            .rev()
            .find_map(|key| frame::open_frame(key, &sealed).ok())
            .and_then(|bytes| wire::decode_payload::<ClusterFrame>(&bytes).ok())
        else {
            return;
        };
        let FrameBody::Anon(relay) = opened.body else {
            return;
        };
        if !self.anon.packet(relay.epoch, &relay.packet) {
            return;
        }
        let fx = fixtures();
        let members = self.info().map(|i| i.members).unwrap_or_default();
        let secret = fx
            .secrets
            .iter()
            .zip(&fx.secret_publics)
            .enumerate()
            .filter(|(i, (_, public))| {
                self.anon.reply_keys & (1 << i) != 0
                    || members.iter().any(|m| m.epoch_key == **public)
            })
            .find_map(|(_, (secret, _))| open_anon(secret, opened.cluster, &relay.packet).ok());
        let Some(AnonPayload::Fragment(piece)) = secret else {
            return;
        };
        let message = piece.message;
        self.anon.overheard.expire(self.now);
        let Ok(Some(bytes)) = self.anon.overheard.insert(self.now, piece) else {
            return;
        };
        let decoded = wire::decode_payload::<AnonMessage>(&bytes)
            .expect("the node sends well-formed anonymous messages");
        if self.anon.heard.len() >= 16 {
            self.anon.heard.pop_front();
        }
        self.anon.heard.push_back(Heard {
            message,
            reply_key: decoded.reply_key,
        });
    }

    fn flooded(&mut self, spec: FloodSpec) -> peerster_core::wire::cluster::Flooded {
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::cluster::{
            Admit, Flooded, Leave, MAX_POST_BYTES, Post, PostPosition,
        };
        match spec {
            FloodSpec::Post {
                signer,
                cluster,
                author,
                epoch,
                seq,
                prev,
                mut text,
            } => {
                let author = self.member(&author);
                text.truncate(MAX_POST_BYTES);
                let post = Post {
                    cluster: self.cluster_id(&cluster),
                    author,
                    position: PostPosition {
                        epoch: self.epoch(&epoch),
                        seq,
                    },
                    prev: prev.map(|(epoch, seq)| PostPosition {
                        epoch: self.epoch(&epoch),
                        seq,
                    }),
                    text: BoundedBytes::new(text).expect("truncated to the bound"),
                };
                Flooded::Post(self.sign(&signer, author, post))
            }
            FloodSpec::Rollout {
                signer,
                cluster,
                epoch,
                leader,
                limit,
                drop,
                extra,
                unsorted,
            } => Flooded::Rollout(
                self.rollout(signer, cluster, epoch, leader, limit, drop, extra, unsorted),
            ),
            FloodSpec::Admit {
                signer,
                cluster,
                epoch,
                contact,
                joiner,
                join_key,
                addr,
            } => {
                let contact = self.member(&contact);
                let admit = Admit {
                    cluster: self.cluster_id(&cluster),
                    epoch: self.epoch(&epoch),
                    contact,
                    joiner: self.identity(&joiner),
                    join_key: self.public_key(&join_key),
                    addr: self.addr(&addr).into(),
                };
                Flooded::Admit(self.sign(&signer, contact, admit))
            }
            FloodSpec::Leave {
                signer,
                cluster,
                epoch,
                member,
            } => {
                let member = self.member(&member);
                let leave = Leave {
                    cluster: self.cluster_id(&cluster),
                    epoch: self.epoch(&epoch),
                    member,
                };
                Flooded::Leave(self.sign(&signer, member, leave))
            }
        }
    }

    /// A rollout with a fresh cluster key sealed, as the protocol does, to each member's epoch
    /// key: the members of the node's table (but those dropped) and the extra ones.
    #[allow(clippy::too_many_arguments)]
    fn rollout(
        &mut self,
        signer: Signer,
        cluster: ClusterChoice,
        epoch: EpochChoice,
        leader: MemberChoice,
        limit: LimitChoice,
        drop: u8,
        extra: Vec<EntrySpec>,
        unsorted: bool,
    ) -> peerster_core::wire::cluster::Signed<peerster_core::wire::cluster::Rollout> {
        use peerster_core::crypto::{ClusterKey, EpochPublic, PublicIdentity, seal_to};
        use peerster_core::ids::Epoch;
        use peerster_core::wire::cluster::{Rollout, RolloutEntry};
        use peerster_core::wire::{BoundedBytes, BoundedVec, PeerAddr};

        let info = self.info();
        let cluster = self.cluster_id(&cluster);
        let epoch = self.epoch(&epoch);
        let leader = self.member(&leader);
        let limit = match limit {
            LimitChoice::Same => info.as_ref().and_then(|i| i.limit),
            LimitChoice::Other(l) => l,
        };
        let mut members: Vec<(PublicIdentity, EpochPublic, PeerAddr, Epoch, bool)> = info
            .iter()
            .flat_map(|i| i.members.iter())
            .enumerate()
            .filter(|(i, _)| *i >= 8 || drop & (1 << i) == 0)
            .map(|(_, m)| (m.identity, m.epoch_key, m.addr.into(), m.joined, false))
            .collect();
        for entry in extra.iter().take(4) {
            members.push((
                self.identity(&entry.identity),
                self.public_key(&entry.epoch_key),
                self.addr(&entry.addr).into(),
                self.epoch(&entry.joined),
                entry.garbage_key,
            ));
        }
        if !unsorted {
            members.sort_by_key(|m| m.0.member_id());
            members.dedup_by_key(|m| m.0.member_id());
        }
        let key = ClusterKey::generate(&mut self.rng);
        let entries = members
            .into_iter()
            .map(|(identity, epoch_key, addr, joined, garbage)| {
                let mut aad = Vec::with_capacity(32);
                aad.extend_from_slice(&cluster.0.to_be_bytes());
                aad.extend_from_slice(&epoch.0.to_be_bytes());
                aad.extend_from_slice(&identity.member_id().0);
                let sealed = if garbage {
                    vec![0x5a; 80]
                } else {
                    seal_to(
                        &mut self.rng,
                        &epoch_key,
                        b"peerster/rollout-key/v1",
                        &aad,
                        key.as_bytes(),
                    )
                    .unwrap_or_default()
                };
                RolloutEntry {
                    identity,
                    epoch_key,
                    addr,
                    joined,
                    sealed_key: BoundedBytes::new(sealed).unwrap_or_default(),
                }
            })
            .collect();
        let rollout = Rollout {
            cluster,
            epoch,
            leader,
            limit,
            members: BoundedVec::truncating(entries),
        };
        self.sign(&signer, leader, rollout)
    }

    fn join_message(&mut self, spec: JoinSpec) -> Vec<peerster_core::wire::cluster::JoinMessage> {
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::cluster::{
            JoinMessage, JoinRefusal, JoinRequest, RefusalReason, Welcome,
        };
        use peerster_core::wire::fragment::{Fragment, MAX_FRAGMENT_BYTES};
        match spec {
            JoinSpec::Request {
                signer,
                joiner,
                contact,
                contact_addr,
                join_key,
            } => {
                let joiner = self.identity(&joiner);
                let request = JoinRequest {
                    joiner,
                    contact: self.member(&contact),
                    contact_addr: self.addr(&contact_addr).into(),
                    join_key: self.public_key(&join_key),
                };
                let signed = self.sign(&signer, joiner.member_id(), request);
                vec![JoinMessage::Request(Box::new(signed))]
            }
            JoinSpec::Refusal {
                signer,
                contact,
                join_key,
                reason,
            } => {
                let contact = self.member(&contact);
                let refusal = JoinRefusal {
                    contact,
                    join_key: self.public_key(&join_key),
                    reason: [
                        RefusalReason::NotInCluster,
                        RefusalReason::Full,
                        RefusalReason::Declined,
                    ][usize::from(reason) % 3],
                };
                vec![JoinMessage::Refusal(self.sign(&signer, contact, refusal))]
            }
            JoinSpec::Welcome {
                seq,
                object,
                cutting,
            } => {
                let flooded = self.flooded(object);
                cut(&flooded, &cutting)
                    .into_iter()
                    .map(|fragment| JoinMessage::Welcome(Welcome { seq, fragment }))
                    .collect()
            }
            JoinSpec::RawWelcome {
                seq,
                message,
                index,
                count,
                mut bytes,
            } => {
                bytes.truncate(MAX_FRAGMENT_BYTES);
                let fragment = Fragment {
                    message: [message; 16],
                    index,
                    count,
                    bytes: BoundedBytes::new(bytes).expect("truncated to the bound"),
                };
                vec![JoinMessage::Welcome(Welcome { seq, fragment })]
            }
        }
    }

    /// Gives the fuzzed node a datagram.
    fn feed(&mut self, from: SocketAddr, datagram: &[u8]) {
        self.node.handle_datagram(self.now, from, datagram);
        self.received += 1;
    }

    /// Seals a cluster frame under `key` in the smallest bucket that holds it and feeds it.
    fn feed_frame(
        &mut self,
        key: &peerster_core::crypto::ClusterKey,
        from: SocketAddr,
        cluster: peerster_core::ids::ClusterId,
        epoch: peerster_core::ids::Epoch,
        body: peerster_core::wire::cluster::FrameBody,
    ) {
        use peerster_core::wire::cluster::ClusterFrame;
        use peerster_core::wire::frame;
        let payload = wire::encode_payload(&ClusterFrame {
            cluster,
            epoch,
            body,
        })
        .expect("a frame encodes");
        let Ok(bucket) = frame::smallest_bucket(&self.buckets, payload.len()) else {
            return;
        };
        let datagram =
            frame::seal_frame(key, &mut self.rng, bucket, &payload).expect("fits its bucket");
        self.feed(from, &datagram);
    }

    /// Drains the fuzzed node's output, checking every datagram and the cluster state.
    fn drain(&mut self) {
        let mut sent = Vec::new();
        while let Some(t) = self.node.poll_transmit() {
            check_transmit(&t.payload, &self.buckets);
            self.remember(&t.payload);
            sent.push(t.payload.clone());
            if t.destination == real_addr(1 - self.me) && self.to_peer.len() < 256 {
                self.to_peer.push_back(t.payload);
            }
        }
        while let Some(event) = self.node.poll_event() {
            self.anon.event(&event);
        }
        check_cluster(&self.node, self.now);
        check_anonymity(&self.node, self.now);
        if let Some(key) = self.node.cluster_key()
            && self
                .keys
                .last()
                .is_none_or(|k| k.as_bytes() != key.as_bytes())
        {
            if self.keys.len() >= 8 {
                self.keys.remove(0);
            }
            self.keys.push(key);
        }
        for datagram in sent {
            self.overhear(&datagram);
        }
        assert_eq!(self.node.stats().datagrams_received, self.received);
    }

    fn remember(&mut self, datagram: &[u8]) {
        if self.recent.len() >= 16 {
            self.recent.pop_front();
        }
        self.recent.push_back(datagram.to_vec());
    }

    /// Moves datagrams between the fuzzed node and the other real node, `rounds` times.
    fn exchange(&mut self, rounds: u8) {
        let (me, limit, admission, formation) =
            (self.me, self.limit, self.admission, self.formation);
        let now = self.now;
        let peer = self
            .peer
            .get_or_insert_with(|| replay_node(1 - me, limit, admission, formation));
        if peer.poll_timeout().is_some_and(|t| t <= now) {
            peer.handle_timeout(now);
        }
        let from_node = real_addr(self.me);
        let from_peer = real_addr(1 - self.me);
        for _ in 0..1 + rounds % 4 {
            let Some(peer) = self.peer.as_mut() else {
                return;
            };
            while let Some(datagram) = self.to_peer.pop_front() {
                peer.handle_datagram(now, from_node, &datagram);
            }
            while peer.poll_event().is_some() {}
            let outgoing: Vec<_> = std::iter::from_fn(|| peer.poll_transmit()).collect();
            for t in outgoing {
                check_transmit(&t.payload, &self.buckets);
                self.remember(&t.payload);
                if t.destination == from_node {
                    self.feed(from_peer, &t.payload);
                }
            }
            self.drain();
        }
    }

    fn command(&mut self, command: Command) {
        let now = self.now;
        match command {
            Command::Post { text, repeat } => {
                let text = text.repeat(1 + usize::from(repeat % 8));
                let _ = self.node.post(now, &text);
            }
            Command::Leave => {
                let _ = self.node.leave_cluster(now);
            }
            Command::Create { limit } => {
                let _ = self.node.create_cluster(now, limit);
            }
            Command::Join { contact } => {
                let contact = self.addr(&contact);
                let _ = self.node.join(now, contact);
            }
            Command::AnswerJoin { joiner, accept } => {
                let joiner = self.member(&joiner);
                let _ = self.node.answer_join(now, joiner, accept);
            }
            Command::Connect { to } => {
                let to = self.addr(&to);
                self.node.connect(now, to);
            }
            Command::Announce { name } => {
                let _ = self.node.announce(now, &name);
            }
            Command::SendAnonymous {
                to,
                text,
                repeat,
                sign,
            } => {
                let to = self.member(&to);
                let text = text.repeat(1 + usize::from(repeat % 64));
                let options = peerster_core::AnonOptions { sign };
                if let Ok(sent) = self.node.send_anonymous(now, to, &text, options) {
                    self.anon.sent.push((sent.message, sent.thread));
                    self.anon.thread(sent.thread);
                }
            }
            Command::ReplyAnonymous {
                thread,
                text,
                repeat,
                sign,
            } => {
                let thread = self.thread(&thread);
                let text = text.repeat(1 + usize::from(repeat % 64));
                let options = peerster_core::AnonOptions { sign };
                if let Ok(message) = self.node.reply_anonymous(now, thread, &text, options) {
                    self.anon.sent.push((message, thread));
                }
            }
        }
    }

    fn step(&mut self, step: MemberStep) {
        use peerster_core::wire::join_frame;
        self.now += Duration::from_millis(step.advance_ms.into());
        match step.action {
            Action::Frame {
                key,
                from,
                cluster,
                epoch,
                body,
            } => {
                let key = self.cluster_key(&key);
                let from = self.addr(&from);
                let (cluster, epoch) = (self.cluster_id(&cluster), self.epoch(&epoch));
                if let Some(body) = self.body(body) {
                    self.feed_frame(&key, from, cluster, epoch, body);
                }
            }
            Action::Flood {
                key,
                from,
                cluster,
                epoch,
                object,
                cutting,
            } => {
                use peerster_core::wire::cluster::FrameBody;
                let key = self.cluster_key(&key);
                let from = self.addr(&from);
                let (cluster, epoch) = (self.cluster_id(&cluster), self.epoch(&epoch));
                let flooded = self.flooded(object);
                for fragment in cut(&flooded, &cutting) {
                    self.feed_frame(&key, from, cluster, epoch, FrameBody::Fragment(fragment));
                    // Each fragment may make the node send; keep its queue short.
                    self.drain();
                }
            }
            Action::AnonMessage {
                key,
                from,
                cluster,
                epoch,
                relay_epoch,
                phase,
                to,
                tag,
                message,
                cutting,
            } => {
                use peerster_core::wire::anon::AnonRelay;
                use peerster_core::wire::cluster::FrameBody;
                let key = self.cluster_key(&key);
                let from = self.addr(&from);
                let (cluster, epoch) = (self.cluster_id(&cluster), self.epoch(&epoch));
                let relay_epoch = self.relay_epoch(&relay_epoch);
                let recipient = self.anon_key(&to);
                for packet in self.anon_message(&recipient, &tag, message, &cutting) {
                    self.anon.packet(relay_epoch, &packet);
                    let relay = AnonRelay {
                        epoch: relay_epoch,
                        phase: phase.phase(),
                        packet,
                    };
                    self.feed_frame(&key, from, cluster, epoch, FrameBody::Anon(relay));
                    // Each packet may make the node send; keep its queue short.
                    self.drain();
                }
            }
            Action::Raw { from, bytes } => {
                let from = self.addr(&from);
                self.feed(from, &bytes);
            }
            Action::Join { to, from, message } => {
                let recipient = self.public_key(&to);
                let from = self.addr(&from);
                for message in self.join_message(message) {
                    let payload = wire::encode_payload(&message).expect("a join message encodes");
                    let Some(bucket) = self
                        .buckets
                        .iter()
                        .copied()
                        .find(|&b| join_frame::payload_capacity(b) >= payload.len())
                    else {
                        continue;
                    };
                    // A low-order recipient key cannot be sealed to.
                    if let Ok(datagram) =
                        join_frame::seal_join(&recipient, &mut self.rng, bucket, &payload)
                    {
                        self.feed(from, &datagram);
                        self.drain();
                    }
                }
            }
            Action::Replay { index, from, flip } => {
                let n = self.recent.len();
                if n == 0 {
                    return;
                }
                let mut datagram = self.recent[n - 1 - usize::from(index) % n].clone();
                if let Some((position, xor)) = flip {
                    let len = datagram.len();
                    if len > 0 {
                        datagram[usize::from(position) % len] ^= xor;
                    }
                }
                let from = self.addr(&from);
                self.feed(from, &datagram);
            }
            Action::Timeout { advance_ms } => {
                self.now += Duration::from_millis(advance_ms.into());
                self.node.handle_timeout(self.now);
            }
            Action::Command(command) => self.command(command),
            Action::Exchange { rounds } => self.exchange(rounds),
        }
        self.drain();
    }
}

/// Encodes a flooded object and cuts it into the fragments `cutting` delivers.
fn cut(
    flooded: &peerster_core::wire::cluster::Flooded,
    cutting: &Cutting,
) -> Vec<peerster_core::wire::fragment::Fragment> {
    let bytes = wire::encode_payload(flooded).expect("a flooded object encodes");
    cut_bytes(&bytes, cutting, FRAGMENT_ROOM)
}

/// Cuts `bytes` into the fragments of at most `room` bytes that `cutting` delivers.
fn cut_bytes(
    bytes: &[u8],
    cutting: &Cutting,
    room: usize,
) -> Vec<peerster_core::wire::fragment::Fragment> {
    let per = match usize::from(cutting.per_fragment) {
        0 => room,
        n => n.min(room),
    };
    let Some(mut pieces) = wire::fragment::split([cutting.message; 16], bytes, per) else {
        return Vec::new();
    };
    let mut i = 0;
    pieces.retain(|_| {
        let skip = i < 8 && cutting.skip & (1 << i) != 0;
        i += 1;
        !skip
    });
    if cutting.reverse {
        pieces.reverse();
    }
    // A flood of more fragments than this is slow and no more interesting.
    pieces.truncate(64);
    pieces
}

/// A member of a real two-node cluster (founder or joiner, as the input chooses) given up to
/// 256 steps: cluster frames with built bodies (signed by members or outsiders, under the
/// current, a previous or a random key, from members or strangers), floods cut into
/// fragments, anonymous relays (arbitrary packets, or payloads and whole messages sealed to
/// its epoch key, to reply keys it handed out or to other keys) and anonymous syncs,
/// arbitrary datagrams, join frames to its node key or epoch key, replays, timers, user
/// commands (anonymous messages and replies among them), and exchanges with the other real
/// node. Never a panic; every datagram sent by either real node well-formed, within the
/// datagram limit and, if sealed, exactly one padding bucket long; the node's cluster view
/// consistent ([`check_cluster`]) and its anonymity estimate too ([`check_anonymity`]) after
/// every step; its reports on its anonymous messages consistent ([`AnonKnowledge`]); every
/// datagram given to it counted.
pub fn cluster_member(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(setup) = MemberSetup::arbitrary(&mut input) else {
        return;
    };
    let Ok(steps) = Vec::<MemberStep>::arbitrary(&mut input) else {
        return;
    };
    run_cluster_member(&setup, steps.into_iter().take(256));
}

/// The body of [`cluster_member`], for hand-made steps. Returns the fuzzed node's final
/// counters.
pub fn run_cluster_member(
    setup: &MemberSetup,
    steps: impl IntoIterator<Item = MemberStep>,
) -> peerster_core::Stats {
    use peerster_core::Admission;
    use rand_core::SeedableRng;

    let limit = [None, Some(2), Some(3), Some(8)][usize::from(setup.limit % 4)];
    let admission = [Admission::AcceptAll, Admission::Ask, Admission::RefuseAll]
        [usize::from(setup.admission % 3)];
    let me = usize::from(!setup.founder);
    // The founder must let the joiner in while the cluster forms.
    let mut admissions = [Admission::AcceptAll; 2];
    if me == 1 || admission != Admission::RefuseAll {
        admissions[me] = admission;
    }
    let formation = formation(limit, admissions);
    let node = replay_node(me, limit, admissions, formation);
    let received = node.stats().datagrams_received;
    let mut world = MemberWorld {
        now: formation.now,
        node,
        peer: None,
        me,
        formation,
        limit,
        admission: admissions,
        buckets: Config::default().pad_buckets,
        rng: rand_chacha::ChaCha20Rng::from_seed([0x77; 32]),
        keys: Vec::new(),
        received,
        to_peer: std::collections::VecDeque::new(),
        recent: std::collections::VecDeque::new(),
        anon: AnonKnowledge::new(),
    };
    world.drain();
    for step in steps {
        world.step(step);
    }
    world.node.stats()
}
