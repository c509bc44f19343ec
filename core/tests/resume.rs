//! A member whose node is dropped and recreated from its [`ClusterState`] resumes its
//! membership without a vote, or learns cleanly that the cluster moved on without it.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::{Net, Verdict, settled_cluster};
use peerster_core::{ClusterState, ClusterStateError, Config, Event};

/// A short heartbeat and member timeout, so that silence is detected within a test.
fn fast_config() -> Config {
    Config {
        heartbeat_interval: Duration::from_secs(2),
        member_timeout: Duration::from_secs(10),
        rollout_grace: Duration::from_secs(30),
        ..Config::default()
    }
}

/// Cuts node `i` off while the returned flag is set: nothing reaches or leaves it, as while
/// its process is dead.
fn cut_off(net: &mut Net, i: usize) -> Rc<Cell<bool>> {
    cut_off_all(net, &[i])
}

/// Cuts the nodes `nodes` off while the returned flag is set.
fn cut_off_all(net: &mut Net, nodes: &[usize]) -> Rc<Cell<bool>> {
    let down = Rc::new(Cell::new(false));
    let flag = Rc::clone(&down);
    let addrs: Vec<_> = nodes.iter().map(|&i| net.addrs[i]).collect();
    net.hook = Box::new(move |f| {
        if flag.get() && (addrs.contains(&f.to) || addrs.contains(&f.from)) {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    down
}

/// Kills node `i` (a new node of its identity replaces it, in no cluster), keeps it down for
/// `away`, then restores `state` into it.
fn kill_and_restore(net: &mut Net, i: usize, state: &ClusterState, away: Duration) {
    let down = cut_off(net, i);
    down.set(true);
    net.restart(i, 0xe0 + i as u8);
    net.run_for(away);
    down.set(false);
    let now = net.now;
    let restored = net.nodes[i].restore_cluster(now, state).expect("restores");
    assert_eq!(restored, state.cluster());
    assert_eq!(
        net.nodes[i].cluster().map(|c| c.epoch),
        Some(state.epoch()),
        "a member again at once"
    );
}

/// The posts node `i` delivered since event index `from`.
fn posts_of(net: &Net, i: usize, from: usize) -> Vec<String> {
    net.events[from..]
        .iter()
        .filter(|(n, _)| *n == i)
        .filter_map(|(_, e)| match e {
            Event::Post { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn removed(net: &Net, i: usize, from: usize) -> bool {
    net.events[from..]
        .iter()
        .any(|(n, e)| *n == i && matches!(e, Event::RemovedFromCluster { .. }))
}

#[test]
fn a_member_restored_within_the_timeout_is_still_a_member_for_all_and_reads_new_posts() {
    let mut net = settled_cluster(3, 21, fast_config());
    let now = net.now;
    net.nodes[2].post(now, "before the crash").unwrap();
    net.run_for(Duration::from_secs(2));
    let state = net.nodes[2].cluster_state().expect("a member");
    // It runs on after the save, sending heartbeats the others count, then dies (kill -9).
    net.run_for(Duration::from_secs(7));
    let epoch = net.nodes[0].cluster().unwrap().epoch;
    kill_and_restore(&mut net, 2, &state, Duration::from_secs(8));
    let restored_at = net.now;
    let events = net.events.len();
    // Its first heartbeats are taken, though it sent others after the state was saved: their
    // counters went on past the saved one.
    net.run_for(Duration::from_millis(1500));
    let me = net.nodes[2].id();
    for i in 0..2 {
        let info = net.nodes[i].cluster().unwrap();
        let heard = info.members.iter().find(|m| m.id == me).unwrap().last_heard;
        assert!(heard >= restored_at, "node {i} heard the restored member");
    }
    net.run_for(Duration::from_secs(12));
    for i in 0..3 {
        let info = net.nodes[i].cluster().expect("still in the cluster");
        assert!(
            info.members.iter().any(|m| m.id == me),
            "node {i} keeps the restored member"
        );
        assert_eq!(info.members.len(), 3, "node {i}");
    }
    assert!(!removed(&net, 2, events));
    let now = net.now;
    net.nodes[0].post(now, "after the restart").unwrap();
    net.nodes[2].post(now, "back again").unwrap();
    net.run_for(Duration::from_secs(3));
    assert_eq!(posts_of(&net, 2, events), ["after the restart"]);
    // Its own numbering went on where it stopped: the others take its new post.
    assert_eq!(
        posts_of(&net, 1, events),
        ["after the restart", "back again"]
    );
    assert_eq!(posts_of(&net, 0, events), ["back again"]);
    // Its heartbeats counted: nobody rolled it out, whatever epoch the cluster is in now.
    assert!(net.nodes[0].cluster().unwrap().epoch >= epoch);
}

#[test]
fn a_member_restored_after_a_rollout_it_missed_catches_up() {
    // Node 3 may come first in the leader order, which the epoch key decides: a short
    // rollout timeout lets the next leader take over well within the member timeout.
    let config = Config {
        rollout_timeout: Duration::from_secs(3),
        ..fast_config()
    };
    let mut net = settled_cluster(4, 22, config);
    let state = net.nodes[3].cluster_state().expect("a member");
    let down = cut_off(&mut net, 3);
    down.set(true);
    net.restart(3, 0xe3);
    // Node 1 leaves while node 3 is down: the key rolls, node 3 still in (not silent yet).
    let now = net.now;
    net.nodes[1].leave_cluster(now).unwrap();
    for _ in 0..16 {
        net.run_for(Duration::from_millis(500));
        if net.nodes[0].cluster().unwrap().epoch > state.epoch() {
            break;
        }
    }
    let rolled = net.nodes[0].cluster().unwrap();
    assert!(rolled.epoch > state.epoch(), "the key rolled");
    assert_eq!(rolled.members.len(), 3);
    down.set(false);
    let now = net.now;
    net.nodes[3].restore_cluster(now, &state).unwrap();
    let events = net.events.len();
    net.run_for(Duration::from_secs(5));
    let info = net.nodes[3].cluster().expect("still a member");
    assert_eq!(info.epoch, rolled.epoch, "installed the rollout it missed");
    assert_eq!(info.members.len(), 3);
    let now = net.now;
    net.nodes[2].post(now, "in the new epoch").unwrap();
    net.run_for(Duration::from_secs(3));
    assert_eq!(posts_of(&net, 3, events), ["in the new epoch"]);
}

#[test]
fn a_member_restored_after_it_was_removed_learns_it() {
    let mut net = settled_cluster(3, 23, fast_config());
    let state = net.nodes[2].cluster_state().expect("a member");
    let before = net.nodes[0].cluster().unwrap().epoch;
    let away = Duration::from_secs(25);
    // Down past the member timeout: the others roll it out.
    let down = cut_off(&mut net, 2);
    down.set(true);
    net.restart(2, 0xe2);
    net.run_for(away);
    let info = net.nodes[0].cluster().unwrap();
    assert!(info.epoch > before);
    assert_eq!(info.members.len(), 2, "silent member dropped");
    // Back within the grace period: a member still holding the old epoch sends it the
    // rollout that left it out.
    down.set(false);
    let now = net.now;
    net.nodes[2].restore_cluster(now, &state).unwrap();
    let events = net.events.len();
    net.run_for(Duration::from_secs(5));
    assert!(removed(&net, 2, events), "told it was removed");
    assert!(net.nodes[2].cluster().is_none());
    assert!(net.nodes[2].cluster_state().is_none());
}

#[test]
fn a_member_restored_long_after_it_was_removed_gives_up_by_itself() {
    let config = fast_config();
    let mut net = settled_cluster(3, 24, config.clone());
    let state = net.nodes[2].cluster_state().expect("a member");
    let down = cut_off(&mut net, 2);
    down.set(true);
    net.restart(2, 0xe2);
    // Past the member timeout and the grace period: nobody holds its epoch any more.
    net.run_for(Duration::from_secs(90));
    assert_eq!(net.nodes[0].cluster().unwrap().members.len(), 2);
    down.set(false);
    let now = net.now;
    net.nodes[2].restore_cluster(now, &state).unwrap();
    let events = net.events.len();
    net.run_for(config.member_timeout + Duration::from_secs(1));
    assert!(removed(&net, 2, events), "reports it is out");
    // It did not roll the others out of a cluster of its own meanwhile.
    assert!(
        !net.events[events..]
            .iter()
            .any(|(n, e)| *n == 2 && matches!(e, Event::EpochChanged { .. })),
        "{:?}",
        net.events[events..]
            .iter()
            .filter(|(n, _)| *n == 2)
            .collect::<Vec<_>>()
    );
    assert!(net.nodes[2].cluster().is_none());
    // The others never took it back.
    assert_eq!(net.nodes[0].cluster().unwrap().members.len(), 2);
}

#[test]
fn a_state_is_restored_only_into_its_own_identity_and_an_idle_node() {
    let mut net = settled_cluster(3, 25, fast_config());
    let state = net.nodes[2].cluster_state().expect("a member");
    let now = net.now;
    assert_eq!(
        net.nodes[1].restore_cluster(now, &state),
        Err(ClusterStateError::Busy)
    );
    net.restart(1, 0xe1);
    let now = net.now;
    assert_eq!(
        net.nodes[1].restore_cluster(now, &state),
        Err(ClusterStateError::NotThisNode)
    );
    assert!(net.nodes[1].cluster().is_none());
    // Through its encoding, as a host keeps it.
    let bytes = state.encode();
    let decoded = ClusterState::decode(&bytes).unwrap();
    assert_eq!(decoded.encode(), bytes);
    net.restart(2, 0xe2);
    let now = net.now;
    assert_eq!(
        net.nodes[2].restore_cluster(now, &decoded),
        Ok(state.cluster())
    );
}

#[test]
fn a_restored_member_takes_the_rollout_it_missed_whatever_its_leaders_turn() {
    let config = Config {
        rollout_timeout: Duration::from_secs(2),
        ..fast_config()
    };
    let mut net = settled_cluster(5, 26, config);
    let order = net.nodes[0].cluster().unwrap().leader_order;
    let index = |net: &Net, id| (0..5).find(|&i| net.nodes[i].id() == id).unwrap();
    let (first, second, leaving) = (
        index(&net, order[0]),
        index(&net, order[1]),
        index(&net, order[4]),
    );
    let state = net.nodes[first].cluster_state().expect("a member");
    // The first two leaders go down and a member leaves: the third leads the rollout, and
    // keeps the two (not silent yet) with their old keys.
    let down = cut_off_all(&mut net, &[first, second]);
    down.set(true);
    net.restart(first, 0xe7);
    let now = net.now;
    net.nodes[leaving].leave_cluster(now).unwrap();
    net.run_for(Duration::from_secs(6));
    let rolled = net.nodes[index(&net, order[2])].cluster().unwrap();
    assert!(
        rolled.epoch > state.epoch(),
        "the third leader rolled the key"
    );
    assert_eq!(rolled.members.len(), 4, "{rolled:?}");
    // The first comes back (the second stays down). In its view both leaders before the third
    // are alive and the epoch just began: by turns, that rollout is too early. It takes it.
    cut_off(&mut net, second).set(true);
    let now = net.now;
    net.nodes[first].restore_cluster(now, &state).unwrap();
    net.run_for(Duration::from_secs(4));
    let info = net.nodes[first].cluster().expect("still a member");
    assert_eq!(info.epoch, rolled.epoch, "installed the rollout it missed");
    let now = net.now;
    net.nodes[leaving]
        .post(now, "not a member any more")
        .unwrap_err();
    let events = net.events.len();
    let author = index(&net, order[3]);
    net.nodes[author].post(now, "to the four").unwrap();
    net.run_for(Duration::from_secs(3));
    assert_eq!(posts_of(&net, first, events), ["to the four"]);
}
