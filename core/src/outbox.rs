//! The bounded queues through which a node hands out datagrams and events.

use std::collections::VecDeque;
use std::net::SocketAddr;

use tracing::warn;

use crate::stats::Stats;
use crate::wire::{self, Packet};
use crate::{Event, Transmit};

/// Datagrams and events waiting to be drained by the host, each queue bounded.
#[derive(Debug)]
pub(crate) struct Outbox {
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    max_transmits: usize,
    max_events: usize,
}

impl Outbox {
    pub(crate) fn new(max_transmits: usize, max_events: usize) -> Self {
        Outbox {
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            max_transmits,
            max_events,
        }
    }

    /// Encodes `packet` and queues it for `destination`.
    pub(crate) fn send(&mut self, stats: &mut Stats, destination: SocketAddr, packet: &Packet) {
        match wire::encode(packet) {
            Ok(payload) => self.send_datagram(stats, destination, payload),
            // Our own packets are built within their bounds; reaching this is a bug.
            Err(e) => warn!(kind = packet.kind(), error = %e, "could not encode own packet"),
        }
    }

    /// Queues an encoded datagram for `destination`.
    pub(crate) fn send_datagram(
        &mut self,
        stats: &mut Stats,
        destination: SocketAddr,
        payload: Vec<u8>,
    ) {
        if self.transmits.len() >= self.max_transmits {
            stats.dropped.transmit_queue_full += 1;
            return;
        }
        stats.datagrams_sent += 1;
        stats.bytes_sent += payload.len() as u64;
        self.transmits.push_back(Transmit {
            destination,
            payload,
        });
    }

    /// Queues an event for the host.
    pub(crate) fn emit(&mut self, stats: &mut Stats, event: Event) {
        if self.events.len() >= self.max_events {
            stats.dropped.event_queue_full += 1;
            return;
        }
        self.events.push_back(event);
    }

    pub(crate) fn pop_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub(crate) fn pop_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
