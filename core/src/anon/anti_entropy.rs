//! Anti-entropy of the store: listing it to a random member, and answering another's listing.

use core::time::Duration;

use super::{AnonLayer, AnonView};
use crate::cluster::transport;
use crate::ids::Epoch;
use crate::node::Ctx;
use crate::sample::sample;
use crate::time::Timestamp;
use crate::wire::anon::{AnonPacket, AnonSync, RelayPhase, TrafficClass};
use crate::wire::cluster::FrameBody;

impl AnonLayer {
    /// Handles another member's listing of its store. A listing that differs from this
    /// member's store brings anti-entropy back to its quick pace.
    pub(crate) fn on_sync(
        &mut self,
        now: Timestamp,
        sync: AnonSync,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(addr) = view
            .addr_of(&sync.member)
            .filter(|_| sync.member != view.me)
        else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        self.store.expire(now);
        let (handover, lacking) = self.store.compare(now, &sync, ctx.config.anon_sync_budget);
        if !handover.is_empty() {
            ctx.stats.anon_store_handovers += handover.len() as u64;
        }
        if lacking || !handover.is_empty() {
            // Stores differ: others may differ too.
            self.sync.reset(now, ctx.config.anon_sync_bounds(), ctx.rng);
        }
        for (epoch, packet, ttl_s) in handover {
            let phase = RelayPhase::Stored { ttl_s };
            self.send_relay(addr, epoch, phase, TrafficClass::Message, packet, view, ctx);
        }
        if lacking && sync.reply_wanted {
            let mine = self.store.listing_from(view.me, sync.from, false);
            transport::send_frame(
                ctx,
                &view.current.key,
                view.cluster,
                view.current.epoch,
                addr,
                FrameBody::AnonSync(mine),
            );
        }
    }

    /// Keeps `packet` for members that were away. Returns whether it was new: then the store
    /// changed, and anti-entropy speeds up.
    pub(super) fn store_packet(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        ttl: Duration,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let new = self.store.insert(now, epoch, packet, ttl);
        if new {
            self.sync.reset(now, ctx.config.anon_sync_bounds(), ctx.rng);
        }
        new
    }

    /// Lists this member's store to a random live member.
    pub(super) fn sync(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        let live = view.live(now, ctx.config);
        let Some(&peer) = sample(live, 1, ctx.rng).first() else {
            return;
        };
        let Some(addr) = view.addr_of(&peer) else {
            return;
        };
        let listing = self.store.listing(view.me, true);
        transport::send_frame(
            ctx,
            &view.current.key,
            view.cluster,
            view.current.epoch,
            addr,
            FrameBody::AnonSync(listing),
        );
    }
}
