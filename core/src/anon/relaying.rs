//! Passing packets on: this member's own onto its stem, others' along the stem or into the
//! fluff, with the embargo; and what arrives from other members.

use std::net::SocketAddr;
use std::time::Duration;

use rand_core::Rng;
use tracing::trace;

use super::relay::{Relay, Sighting};
use super::route::Hop;
use super::{AnonLayer, AnonView};
use crate::cluster::transport;
use crate::config::StemRouting;
use crate::ids::{Epoch, MemberId};
use crate::node::Ctx;
use crate::sample::sample;
use crate::time::Timestamp;
use crate::wire::anon::{AnonPacket, AnonRelay, RelayPhase, TrafficClass};
use crate::wire::cluster::FrameBody;

/// The predecessor assigned to stem packets from an address that is not in the table, so
/// that they are routed like any relayed packet.
const UNKNOWN_PREDECESSOR: MemberId = MemberId([0xff; 16]);

/// How far back in epochs a packet handed over from a store may be.
const STORED_EPOCHS: u64 = 16;

/// How long a relay remembers a voice packet it handled: far longer than any voice packet
/// stays useful.
const VOICE_MEMORY: Duration = Duration::from_secs(30);

/// The stem probability of `class`.
fn p_stem(class: TrafficClass, config: &crate::Config) -> f64 {
    match class {
        TrafficClass::Message => config.p_stem,
        TrafficClass::Realtime => config.call_p_stem,
    }
}

/// The members each fluff relay passes a packet of `class` to.
fn fanout(class: TrafficClass, config: &crate::Config) -> usize {
    match class {
        TrafficClass::Message => config.anon_fanout,
        TrafficClass::Realtime => config.call_fanout,
    }
}

/// The flood hop limit of `class`.
fn hop_limit(class: TrafficClass, config: &crate::Config) -> u8 {
    match class {
        TrafficClass::Message => config.anon_hop_limit,
        TrafficClass::Realtime => config.call_hop_limit,
    }
}

/// When a relay forgets a packet of `class` it handles now.
fn forget_at(now: Timestamp, class: TrafficClass, config: &crate::Config) -> Timestamp {
    match class {
        TrafficClass::Message => now + config.anon_store_ttl + config.rollout_grace,
        TrafficClass::Realtime => now + VOICE_MEMORY,
    }
}

impl AnonLayer {
    /// Puts one of this member's packets on its stem.
    pub(super) fn send_own(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        class: TrafficClass,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        if class == TrafficClass::Realtime {
            self.cover.voice_sent();
        }
        let hop = self.next_hop(now, None, class, view, ctx);
        self.forward(now, epoch, packet, None, hop, class, view, ctx);
    }

    /// Where a packet of `class` goes next along the stem: this member's own (`predecessor`
    /// is `None`) or one that came from `predecessor`.
    pub(super) fn next_hop(
        &mut self,
        now: Timestamp,
        predecessor: Option<MemberId>,
        class: TrafficClass,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Option<Hop> {
        let live = view.live(now, ctx.config);
        self.routes.next_hop(
            ctx.config.stem_routing,
            view.current.epoch,
            predecessor,
            &live,
            p_stem(class, ctx.config),
            ctx.rng,
        )
    }

    /// Sends a packet to its next hop: along the stem (with an embargo, for messages) or into
    /// the fluff.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn forward(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        predecessor: Option<MemberId>,
        hop: Option<Hop>,
        class: TrafficClass,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let forget_at = forget_at(now, class, ctx.config);
        match hop.and_then(|h| match h {
            Hop::Stem(next) => view.addr_of(&next).map(|a| (next, a)),
            Hop::Fluff => None,
        }) {
            Some((_, addr)) => {
                let deadline = (class == TrafficClass::Message).then(|| {
                    let jitter =
                        ctx.rng.next_u64() % (ctx.config.anon_embargo.as_micros() as u64 + 1);
                    now + ctx.config.anon_embargo + Duration::from_micros(jitter)
                });
                self.relay_for(class)
                    .stemmed(epoch, packet.clone(), deadline, forget_at);
                if predecessor.is_some() {
                    ctx.stats.anon_stem_relayed += 1;
                }
                for copy in 0..ctx.config.anon_stem_copies {
                    let phase = RelayPhase::Stem {
                        copy: u8::try_from(copy).unwrap_or(u8::MAX),
                    };
                    self.send_relay(addr, epoch, phase, class, packet.clone(), view, ctx);
                }
            }
            None => {
                self.relay_for(class)
                    .sight(packet.digest(), None, forget_at);
                ctx.stats.anon_fluffs_started += 1;
                self.keep(now, epoch, &packet, class, ctx);
                self.fluff(now, epoch, packet, 0, predecessor, class, view, ctx);
            }
        }
    }

    /// The relay memory of `class`: voice has its own, short-lived, so that a call does not
    /// push the digests of messages out of the message relay's bound.
    pub(super) fn relay_for(&mut self, class: TrafficClass) -> &mut Relay {
        match class {
            TrafficClass::Message => &mut self.relay,
            TrafficClass::Realtime => &mut self.voice_relay,
        }
    }

    /// Keeps a fluffed message packet for members that were away (voice is not kept).
    fn keep(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: &AnonPacket,
        class: TrafficClass,
        ctx: &mut Ctx<'_>,
    ) {
        if class == TrafficClass::Message {
            let ttl = ctx.config.anon_store_ttl;
            self.store_packet(now, epoch, packet.clone(), ttl, ctx);
        }
    }

    /// Sends a fluffed packet with `hops` made so far to `anon_fanout` random live members
    /// other than `except`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fluff(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        hops: u8,
        except: Option<MemberId>,
        class: TrafficClass,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let mut live = view.live(now, ctx.config);
        live.retain(|m| Some(*m) != except);
        for member in sample(live, fanout(class, ctx.config), ctx.rng) {
            if let Some(addr) = view.addr_of(&member) {
                let phase = RelayPhase::Fluff { hops };
                self.send_relay(addr, epoch, phase, class, packet.clone(), view, ctx);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_relay(
        &self,
        to: SocketAddr,
        epoch: Epoch,
        phase: RelayPhase,
        class: TrafficClass,
        packet: AnonPacket,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let relay = AnonRelay {
            epoch,
            phase,
            class,
            packet,
        };
        transport::send_frame(
            ctx,
            &view.current.key,
            view.cluster,
            view.current.epoch,
            to,
            FrameBody::Anon(relay),
        );
    }

    /// Whether a packet of `epoch` in `phase` is still relayed or kept.
    pub(super) fn epoch_usable(
        &self,
        epoch: Epoch,
        phase: RelayPhase,
        view: &AnonView<'_>,
    ) -> bool {
        let current = view.current.epoch;
        match phase {
            RelayPhase::Stem { .. } | RelayPhase::Fluff { .. } => {
                epoch == current || view.previous.is_some_and(|p| p.epoch == epoch)
            }
            RelayPhase::Stored { .. } => {
                epoch <= current.next() && epoch.0 + STORED_EPOCHS >= current.0
            }
        }
    }

    /// Handles an anonymous packet handed over by another member.
    pub(crate) fn on_relay(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        relay: AnonRelay,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        self.refresh(now, view);
        let AnonRelay {
            epoch,
            phase,
            class,
            packet,
        } = relay;
        if !self.epoch_usable(epoch, phase, view) {
            ctx.stats.dropped.stale += 1;
            return;
        }
        if let RelayPhase::Fluff { hops } = phase
            && hops > hop_limit(class, ctx.config)
        {
            ctx.stats.dropped.hop_limit += 1;
            return;
        }
        if class == TrafficClass::Realtime && matches!(phase, RelayPhase::Stored { .. }) {
            // Voice is never stored, so never handed over from a store.
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let predecessor = Some(view.member_at(from).unwrap_or(UNKNOWN_PREDECESSOR));
        let forget_at = forget_at(now, class, ctx.config);
        let stem_copy = match phase {
            RelayPhase::Stem { copy } => Some(copy),
            _ => None,
        };
        let sighting = self
            .relay_for(class)
            .sight(packet.digest(), stem_copy, forget_at);
        trace!(?phase, ?class, ?sighting, "anonymous packet");
        match (sighting, phase) {
            // A later copy of a stem hop, or a packet handled already.
            (Sighting::Duplicate, _) => {
                ctx.stats.dropped.duplicate += 1;
                return;
            }
            (Sighting::Returned, RelayPhase::Stem { .. })
                if ctx.config.stem_routing != StemRouting::Crowds =>
            {
                // The stem looped back here: end it.
                ctx.stats.anon_fluffs_started += 1;
                self.keep(now, epoch, &packet, class, ctx);
                self.fluff(now, epoch, packet, 0, predecessor, class, view, ctx);
            }
            (sighting, RelayPhase::Stem { .. }) => {
                // A new packet, or under Crowds a stem that came back: Crowds paths may
                // revisit a member, and each visit is a hop like any other, which the Crowds
                // analysis (and its bound) assumes.
                if sighting == Sighting::New {
                    self.try_open(now, epoch, &packet, class, view, ctx);
                }
                let hop = self.next_hop(now, predecessor, class, view, ctx);
                self.forward(now, epoch, packet, predecessor, hop, class, view, ctx);
            }
            (sighting, RelayPhase::Fluff { hops }) => {
                if sighting == Sighting::New {
                    self.try_open(now, epoch, &packet, class, view, ctx);
                }
                self.keep(now, epoch, &packet, class, ctx);
                if hops < hop_limit(class, ctx.config) {
                    self.fluff(now, epoch, packet, hops + 1, predecessor, class, view, ctx);
                }
            }
            (sighting, RelayPhase::Stored { ttl_s }) => {
                if sighting == Sighting::New {
                    self.try_open(now, epoch, &packet, class, view, ctx);
                }
                let ttl = Duration::from_secs(ttl_s.into()).min(ctx.config.anon_store_ttl);
                if self.store_packet(now, epoch, packet, ttl, ctx) {
                    // More may be waiting: ask again soon.
                    self.sync.hurry(now + ctx.config.anon_sync_min_interval / 8);
                }
            }
        }
        self.run_trials(now, view, ctx);
    }
}
