//! The hook through which workloads, adversaries and metrics watch a run (and an on-path
//! adversary drops or alters datagrams), and [`Recorder`], an observer that keeps a printable trace.

use std::net::SocketAddr;

use peerster_core::{Event, Timestamp};

use crate::address::NodeIndex;

/// What happens to a datagram after an [`Observer`] has seen it leave its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the network, which may still lose it.
    Deliver,
    /// Lose it now, as an on-path adversary or a broken link would.
    Drop,
}

/// Watches a run from inside the engine. Every method has a default that does nothing, so
/// an observer implements only what it needs; `()` is the observer that watches nothing, and
/// a pair `(A, B)` runs both.
///
/// Calls come in simulated-time order, and for one instant in the order the engine processes
/// things, so an observer sees the same sequence in every run of a seed.
pub trait Observer {
    /// Node `from` handed `datagram` to the network for `to` (which may be no node's address)
    /// at `at`; return [`Verdict::Drop`] to lose it. Called before the network model draws
    /// its loss and delay.
    fn on_send(
        &mut self,
        at: Timestamp,
        from: NodeIndex,
        to: SocketAddr,
        datagram: &[u8],
    ) -> Verdict {
        let _ = (at, from, to, datagram);
        Verdict::Deliver
    }

    /// Node `from`'s datagram to `to`, which [`Observer::on_send`] let through, is about to
    /// enter the network: an on-path adversary (a malicious relay) may alter it in place.
    /// Called after the run digest has taken the datagram as sent.
    fn on_forward(
        &mut self,
        at: Timestamp,
        from: NodeIndex,
        to: SocketAddr,
        datagram: &mut Vec<u8>,
    ) {
        let _ = (at, from, to, datagram);
    }

    /// `datagram` from node `from` reached node `to` at `at`, which handles it right after.
    fn on_deliver(&mut self, at: Timestamp, from: NodeIndex, to: NodeIndex, datagram: &[u8]) {
        let _ = (at, from, to, datagram);
    }

    /// Node `node` emitted `event` at `at`.
    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        let _ = (at, node, event);
    }
}

/// Watches nothing.
impl Observer for () {}

/// Runs `A` then `B`; a datagram is dropped if either drops it (`B` still sees it).
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn on_send(&mut self, at: Timestamp, from: NodeIndex, to: SocketAddr, d: &[u8]) -> Verdict {
        let a = self.0.on_send(at, from, to, d);
        let b = self.1.on_send(at, from, to, d);
        if a == Verdict::Drop || b == Verdict::Drop {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    }

    fn on_forward(&mut self, at: Timestamp, from: NodeIndex, to: SocketAddr, d: &mut Vec<u8>) {
        self.0.on_forward(at, from, to, d);
        self.1.on_forward(at, from, to, d);
    }

    fn on_deliver(&mut self, at: Timestamp, from: NodeIndex, to: NodeIndex, d: &[u8]) {
        self.0.on_deliver(at, from, to, d);
        self.1.on_deliver(at, from, to, d);
    }

    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        self.0.on_event(at, node, event);
        self.1.on_event(at, node, event);
    }
}

/// One line of a [`Recorder`]'s trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEntry {
    /// A node handed a datagram to the network.
    Sent {
        /// When it was sent.
        at: Timestamp,
        /// The sender.
        from: NodeIndex,
        /// The destination address (it may belong to no node).
        to: SocketAddr,
        /// The datagram.
        payload: Vec<u8>,
    },
    /// A node emitted an event.
    Event {
        /// When it was emitted.
        at: Timestamp,
        /// The node.
        node: NodeIndex,
        /// The event (boxed: events are rare and much larger than a datagram entry).
        event: Box<Event>,
    },
}

/// An observer that keeps every datagram sent and every event emitted, for printing and for
/// tests that read a run back. It copies every payload: leave it out of large runs.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// What happened, in order.
    pub trace: Vec<TraceEntry>,
}

impl Recorder {
    /// The events node `node` emitted, in order.
    pub fn events_of(&self, node: NodeIndex) -> impl Iterator<Item = &Event> {
        self.events()
            .filter(move |(n, _)| *n == node)
            .map(|(_, e)| e)
    }

    /// Every event with the node that emitted it, in order.
    pub fn events(&self) -> impl Iterator<Item = (NodeIndex, &Event)> {
        self.trace.iter().filter_map(|entry| match entry {
            TraceEntry::Event { node, event, .. } => Some((*node, &**event)),
            TraceEntry::Sent { .. } => None,
        })
    }
}

impl Observer for Recorder {
    fn on_send(&mut self, at: Timestamp, from: NodeIndex, to: SocketAddr, d: &[u8]) -> Verdict {
        self.trace.push(TraceEntry::Sent {
            at,
            from,
            to,
            payload: d.to_vec(),
        });
        Verdict::Deliver
    }

    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        self.trace.push(TraceEntry::Event {
            at,
            node,
            event: Box::new(event.clone()),
        });
    }
}
