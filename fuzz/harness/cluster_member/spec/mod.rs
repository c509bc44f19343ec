//! What a `cluster_member` input is made of: its [`MemberSetup`] and [`MemberStep`]s, and
//! the choices inside them, which the harness resolves against the fuzzed node's state.

mod anon;
mod choices;
mod frames;
mod steps;
mod votes;

pub use anon::*;
pub use choices::*;
pub use frames::*;
pub use steps::*;
pub use votes::*;
