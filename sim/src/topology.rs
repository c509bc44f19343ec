//! Who connects to whom at the start of a run: graphs over node indices, drawn from the
//! simulation's RNG so a seed always gives the same graph.

use rand_core::Rng;

use crate::address::NodeIndex;
use crate::random::{below, shuffle};

/// An undirected graph over nodes `0..len`. Each edge `(a, b)` has `a > b`: the simulation
/// has node `a` connect to node `b`, so every edge is connected once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    edges: Vec<(NodeIndex, NodeIndex)>,
    neighbours: Vec<Vec<NodeIndex>>,
}

impl Topology {
    /// A graph over `len` nodes with no edges.
    pub fn empty(len: usize) -> Topology {
        Topology {
            edges: Vec::new(),
            neighbours: vec![Vec::new(); len],
        }
    }

    /// The chain `0 – 1 – … – len−1`: node `i` connects to node `i − 1`.
    pub fn chain(len: usize) -> Topology {
        let mut topology = Topology::empty(len);
        for i in 1..len {
            topology.add_edge(i, i - 1);
        }
        topology
    }

    /// A random connected graph in which every node has `degree` neighbours.
    ///
    /// A random Hamiltonian cycle (which makes it connected) plus random chords paired like
    /// the configuration model, redrawing pairs that would make a loop or a double edge. A
    /// degree below 2 gives the cycle; one of `len − 1` or more gives the complete graph. When
    /// `len × degree` is odd one node has `degree − 1` neighbours, and for a degree close to
    /// `len` a few nodes may end one or two short if no valid pairing turns up.
    pub fn random_connected<R: Rng + ?Sized>(len: usize, degree: usize, rng: &mut R) -> Topology {
        let mut topology = Topology::empty(len);
        if len < 2 {
            return topology;
        }
        if degree >= len - 1 {
            for a in 1..len {
                for b in 0..a {
                    topology.add_edge(a, b);
                }
            }
            return topology;
        }
        let mut order: Vec<NodeIndex> = (0..len).collect();
        shuffle(rng, &mut order);
        for k in 0..len {
            let (a, b) = (order[k], order[(k + 1) % len]);
            if !topology.has_edge(a, b) {
                topology.add_edge(a, b);
            }
        }
        let cycle = topology.clone();
        let chords_per_node = degree.saturating_sub(2);
        for _attempt in 0..64 {
            if topology.pair_stubs(chords_per_node, rng) {
                return topology;
            }
            // Stuck with stubs that cannot pair: draw the chords again.
            topology = cycle.clone();
        }
        topology.pair_stubs(chords_per_node, rng);
        topology
    }

    /// Adds `per_node` random chords at every node; returns false if it got stuck, leaving
    /// the chords it managed to add.
    fn pair_stubs<R: Rng + ?Sized>(&mut self, per_node: usize, rng: &mut R) -> bool {
        let mut stubs: Vec<NodeIndex> = (0..self.len())
            .flat_map(|i| std::iter::repeat_n(i, per_node))
            .collect();
        if stubs.len() % 2 == 1 {
            stubs.pop();
        }
        let mut misses = 0;
        while stubs.len() >= 2 {
            let i = below(rng, stubs.len() as u64) as usize;
            let j = below(rng, stubs.len() as u64) as usize;
            let (a, b) = (stubs[i], stubs[j]);
            if a == b || self.has_edge(a, b) {
                misses += 1;
                if misses > 32 + 4 * stubs.len() && !self.any_valid_pair(&stubs) {
                    return false;
                }
                continue;
            }
            misses = 0;
            self.add_edge(a, b);
            // Remove the higher position first so the lower one stays valid.
            stubs.swap_remove(i.max(j));
            stubs.swap_remove(i.min(j));
        }
        true
    }

    fn any_valid_pair(&self, stubs: &[NodeIndex]) -> bool {
        stubs.iter().enumerate().any(|(k, &a)| {
            stubs[k + 1..]
                .iter()
                .any(|&b| a != b && !self.has_edge(a, b))
        })
    }

    /// Adds the edge between `a` and `b` (in either order).
    ///
    /// # Panics
    ///
    /// If `a == b` or either is not below [`Topology::len`].
    pub fn add_edge(&mut self, a: NodeIndex, b: NodeIndex) {
        assert_ne!(a, b, "no self-loops");
        self.edges.push((a.max(b), a.min(b)));
        self.neighbours[a].push(b);
        self.neighbours[b].push(a);
    }

    /// The graph over `len` nodes with the given `edges` (pairs of node indices, in either
    /// order); self-loops, repeated edges and indices not below `len` are left out.
    pub fn from_edges(len: usize, edges: &[[NodeIndex; 2]]) -> Topology {
        let mut topology = Topology::empty(len);
        for &[a, b] in edges {
            if a != b && a < len && b < len && !topology.has_edge(a, b) {
                topology.add_edge(a, b);
            }
        }
        topology
    }

    /// Whether `a` and `b` are neighbours.
    pub fn has_edge(&self, a: NodeIndex, b: NodeIndex) -> bool {
        self.neighbours[a].contains(&b)
    }

    /// How many nodes the graph spans.
    pub fn len(&self) -> usize {
        self.neighbours.len()
    }

    /// Whether the graph spans no node.
    pub fn is_empty(&self) -> bool {
        self.neighbours.is_empty()
    }

    /// The edges, each as `(a, b)` with `a > b`, in the order they were drawn.
    pub fn edges(&self) -> &[(NodeIndex, NodeIndex)] {
        &self.edges
    }

    /// The neighbours of node `i`.
    pub fn neighbours(&self, i: NodeIndex) -> &[NodeIndex] {
        &self.neighbours[i]
    }

    /// The nodes `i` connects to: its neighbours with a lower index.
    pub fn connects_to(&self, i: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.neighbours[i].iter().copied().filter(move |&j| j < i)
    }

    /// Whether every node can reach every other.
    pub fn is_connected(&self) -> bool {
        if self.len() < 2 {
            return true;
        }
        let mut seen = vec![false; self.len()];
        let mut stack = vec![0];
        seen[0] = true;
        let mut reached = 1;
        while let Some(i) = stack.pop() {
            for &j in &self.neighbours[i] {
                if !seen[j] {
                    seen[j] = true;
                    reached += 1;
                    stack.push(j);
                }
            }
        }
        reached == self.len()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    use super::*;

    fn degrees(t: &Topology) -> Vec<usize> {
        (0..t.len()).map(|i| t.neighbours(i).len()).collect()
    }

    fn simple(t: &Topology) -> bool {
        let mut edges = t.edges().to_vec();
        edges.sort_unstable();
        edges.dedup();
        edges.len() == t.edges().len() && edges.iter().all(|(a, b)| a > b)
    }

    #[test]
    fn random_graphs_are_connected_simple_and_regular() {
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for (len, degree) in [(50, 4), (1000, 4), (101, 6), (30, 3), (10, 2)] {
                let t = Topology::random_connected(len, degree, &mut rng);
                assert!(t.is_connected(), "seed {seed}, {len} nodes");
                assert!(simple(&t), "seed {seed}, {len} nodes");
                let d = degrees(&t);
                let short = d.iter().filter(|&&k| k == degree - 1).count();
                assert!(d.iter().all(|&k| k == degree || k == degree - 1), "{d:?}");
                assert_eq!(short, (len * degree) % 2, "seed {seed}, {len} nodes");
                assert_eq!(t.edges().len() * 2, d.iter().sum::<usize>());
            }
        }
    }

    #[test]
    fn small_and_dense_graphs() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        assert_eq!(Topology::random_connected(1, 4, &mut rng).edges(), &[]);
        let complete = Topology::random_connected(5, 4, &mut rng);
        assert_eq!(complete.edges().len(), 10);
        let cycle = Topology::random_connected(8, 1, &mut rng);
        assert!(cycle.is_connected() && degrees(&cycle).iter().all(|&k| k == 2));
        let nearly_complete = Topology::random_connected(8, 6, &mut rng);
        assert!(nearly_complete.is_connected() && simple(&nearly_complete));
        assert!(degrees(&nearly_complete).iter().all(|&k| k >= 4));
    }

    #[test]
    fn a_seed_gives_one_graph() {
        let draw = |seed| Topology::random_connected(200, 4, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn a_chain_connects_each_node_to_the_previous_one() {
        let t = Topology::chain(4);
        assert_eq!(t.edges(), &[(1, 0), (2, 1), (3, 2)]);
        assert_eq!(t.connects_to(2).collect::<Vec<_>>(), vec![1]);
        assert!(t.is_connected());
        assert!(!Topology::empty(3).is_connected());
    }
}
