//! Anti-entropy of the store: listing it to a random member, and answering another's listing.

use super::{AnonLayer, AnonView};
use crate::cluster::transport;
use crate::node::Ctx;
use crate::sample::sample;
use crate::time::Timestamp;
use crate::wire::anon::{AnonSync, RelayPhase, TrafficClass};
use crate::wire::cluster::FrameBody;

impl AnonLayer {
    /// Handles another member's listing of its store.
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

    /// Lists this member's store to a random live member.
    pub(super) fn sync(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        let active =
            now.saturating_since(self.store.last_change) < ctx.config.anon_sync_idle_interval * 3;
        self.next_sync = now
            + if active {
                ctx.config.anon_sync_interval
            } else {
                ctx.config.anon_sync_idle_interval
            };
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
