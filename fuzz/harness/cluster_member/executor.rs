//! The step executor of `cluster_member`: gives the fuzzed node each step's datagrams,
//! timers and commands, moves datagrams to and from the other real node (overhearing the
//! floods of both), and after every step drains and checks what the node sends and says.

use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::CommandError;
use peerster_core::wire;

use super::super::node_checks::{check_cluster, check_transmit};
use super::MemberWorld;
use super::build::cut;
use super::checks::check_anonymity;
use super::fixture::real_addr;
use super::formation::replay_node;
use super::spec::{Action, Command, MemberStep};

impl MemberWorld {
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
    pub(super) fn drain(&mut self) {
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
            self.votes.event(&event);
        }
        check_cluster(&self.node, self.now);
        check_anonymity(&self.node, self.now);
        self.votes.check(&self.node);
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
            if let Some(frame) = self.open_sent(&datagram) {
                self.overhear(&frame);
                self.overhear_floods(&frame);
            }
        }
        assert_eq!(self.node.stats().datagrams_received, self.received);
    }

    /// The cluster frame a real node sent, opened with a key the fuzzed node held.
    fn open_sent(&self, datagram: &[u8]) -> Option<peerster_core::wire::cluster::ClusterFrame> {
        use peerster_core::wire::cluster::ClusterFrame;
        use peerster_core::wire::{Packet, frame};
        let Ok(Packet::Sealed(sealed)) = wire::decode(datagram) else {
            return None;
        };
        self.keys
            .iter()
            .rev()
            .find_map(|key| frame::open_frame(key, &sealed).ok())
            .and_then(|bytes| wire::decode_payload::<ClusterFrame>(&bytes).ok())
    }

    /// Keeps a datagram a real node sent, to be replayed (the newest 16 are kept).
    fn remember(&mut self, datagram: &[u8]) {
        if self.recent.len() >= 16 {
            self.recent.pop_front();
        }
        self.recent.push_back(datagram.to_vec());
    }

    /// Moves datagrams between the fuzzed node and the other real node, `rounds` times.
    fn exchange(&mut self, rounds: u8) {
        let (me, limit, auto_vote, formation) =
            (self.me, self.limit, self.auto_vote, self.formation);
        let now = self.now;
        let peer = self
            .peer
            .get_or_insert_with(|| replay_node(1 - me, limit, auto_vote, formation));
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
                    if let Some(frame) = self.open_sent(&t.payload) {
                        self.overhear_floods(&frame);
                    }
                    self.feed(from_peer, &t.payload);
                }
            }
            self.drain();
        }
    }

    /// Gives the fuzzed node a user command (a refused one is no failure).
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
            Command::Vote { vote, yes } => {
                let proposal = self.proposal_id(&vote);
                let result = self.node.vote(now, proposal, yes);
                if result.is_ok() {
                    self.votes.cast.insert(proposal, yes);
                }
                if self.info().is_none() {
                    assert_eq!(result, Err(CommandError::NotInCluster));
                }
            }
            Command::Expel { member } => {
                let member = self.member(&member);
                let in_cluster = self.info().is_some();
                let result = self.node.expel(now, member);
                if let Ok(proposal) = result {
                    self.votes.know(proposal);
                }
                if !in_cluster {
                    assert_eq!(result, Err(CommandError::NotInCluster));
                } else if member == self.node.id() {
                    assert_eq!(result, Err(CommandError::ExpelSelf));
                }
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
            Command::Call { to, sign } => {
                let to = self.member(&to);
                let options = peerster_core::CallOptions { sign };
                if let Ok(call) = self.node.call(now, to, options) {
                    self.anon.thread(call);
                }
            }
            Command::EndOrAnswer { call, how } => {
                for info in self.node.calls() {
                    self.anon.thread(info.call);
                }
                let call = self.thread(&call);
                let _ = match how {
                    0 => self.node.answer_call(now, call),
                    1 => self.node.decline_call(now, call),
                    _ => self.node.hang_up(now, call),
                };
            }
            Command::SendVoice { call, frames, len } => {
                let call = self.thread(&call);
                let frame = vec![0x5a; usize::from(len)];
                for i in 0..=u32::from(frames % 16) {
                    let _ = self.node.send_voice(now, call, i * 960, &frame);
                }
            }
        }
    }

    /// Runs one step, then drains and checks the node.
    pub(super) fn step(&mut self, step: MemberStep) {
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
                for fragment in flooded.iter().flat_map(|f| cut(f, &cutting)) {
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
                use peerster_core::wire::anon::{AnonRelay, TrafficClass};
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
                        class: TrafficClass::Message,
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
