//! [`NodeOptions`]: what `peerster run` sets up before its loop starts.

use std::net::SocketAddr;
use std::path::PathBuf;

use peerster_core::AutoVote;

/// The display name a node announces when none is given.
pub const DEFAULT_NAME: &str = "peerster";

/// A node to run: where it listens, whom it connects to, how it announces itself and what it
/// does about clusters at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeOptions {
    /// UDP address to listen on.
    pub listen: SocketAddr,
    /// Nodes to connect to at start.
    pub peers: Vec<SocketAddr>,
    /// The display name announced at start (at most
    /// [`AnnouncementBody::MAX_NAME`](peerster_core::wire::AnnouncementBody::MAX_NAME) bytes).
    /// The node always announces: a joiner seals its request to the key in its contact's
    /// announcement.
    pub name: String,
    /// What to do about clusters at start.
    pub cluster: ClusterStart,
    /// How the node answers the cluster's votes (joins, expulsions): [`AutoVote::Ask`] shows
    /// each vote and waits for `/vote`.
    pub auto_vote: AutoVote,
    /// The data directory, holding the identity, the lock, the known peers and the control
    /// socket `control.sock`; `None`: the
    /// [`default_data_dir`](crate::default_data_dir).
    pub data_dir: Option<PathBuf>,
    /// Whether to announce this node on the LAN and connect to the nodes announced there
    /// ([`crate::discovery`]); off unless the user asks.
    pub discover: bool,
}

impl NodeOptions {
    /// A node on `listen` with no peers, the [`DEFAULT_NAME`] and no cluster, that asks its
    /// user how to vote.
    pub fn new(listen: SocketAddr) -> NodeOptions {
        NodeOptions {
            listen,
            peers: Vec::new(),
            name: DEFAULT_NAME.to_string(),
            cluster: ClusterStart::None,
            auto_vote: AutoVote::Ask,
            data_dir: None,
            discover: false,
        }
    }
}

/// What a node does about clusters at start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClusterStart {
    /// Nothing: the node stays out of clusters (commands to change that at run time come
    /// with the control interface).
    #[default]
    None,
    /// Found a cluster, with an optional member limit.
    Create {
        /// The most members the cluster may have.
        limit: Option<u16>,
    },
    /// Connect to this node and join its cluster.
    Join(SocketAddr),
}
