//! The cluster file: the node's membership is restored from it at start and written back
//! whenever it changes, so that a restarted node resumes its cluster without a new vote.

use std::path::Path;

use peerster_core::Event;
use peerster_core::ids::ClusterId;
use tracing::info;

use super::Runtime;
use crate::cluster_file::ClusterFile;
use crate::error::{ClusterFileError, RuntimeError};

impl Runtime {
    /// Keeps this node's cluster membership in the cluster file `cluster` of `data_dir`
    /// (mode 0600: it holds the cluster key): resumes the membership saved there, if any, and
    /// from now on writes it whenever it changes (a join, a new epoch, a new cluster, a post
    /// of this node) and when [`Runtime::run`] returns, and removes the file once the node is
    /// in no cluster. Returns the cluster resumed. A damaged file, or one of another identity,
    /// is refused with [`ClusterFileError`]: the node does not start.
    pub fn keep_cluster(&mut self, data_dir: &Path) -> Result<Option<ClusterId>, RuntimeError> {
        let (file, state) = ClusterFile::load(data_dir)?;
        let resumed = match state {
            Some(state) => {
                let cluster = self
                    .node
                    .restore_cluster(self.clock.now(), &state)
                    .map_err(|source| ClusterFileError::Unusable {
                        path: file.path().to_path_buf(),
                        source,
                    })?;
                info!(
                    %cluster,
                    epoch = %state.epoch(),
                    members = state.members().len(),
                    file = %file.path().display(),
                    "cluster membership resumed"
                );
                Some(cluster)
            }
            None => None,
        };
        self.cluster_file = Some(file);
        Ok(resumed)
    }

    /// Notes that `event` changed the membership, for [`Runtime::save_cluster`].
    pub(super) fn note_cluster_change(&mut self, event: &Event) {
        if matches!(
            event,
            Event::JoinedCluster { .. }
                | Event::EpochChanged { .. }
                | Event::LeftCluster { .. }
                | Event::RemovedFromCluster { .. }
        ) {
            self.cluster_changed = true;
        }
    }

    /// Writes the membership to the cluster file (or removes the file outside a cluster) if
    /// it changed since the last write, or always with `force` (when stopping).
    pub(super) fn save_cluster(&mut self, force: bool) {
        if !(self.cluster_changed || force) {
            return;
        }
        self.cluster_changed = false;
        if let Some(file) = self.cluster_file.as_mut() {
            file.sync(self.node.cluster_state().as_ref());
        }
    }
}
