//! `peerster-mio`: the Peerster node people run, a thin driver of one
//! [`peerster_core::Node`] over a UDP socket.
//!
//! The UDP event loop on `mio`, identity on disk, the control interface and the terminal UI
//! are built by the runtime issues; this crate holds their home in the workspace.

/// The wire version of the core this runtime drives, for `--version` output.
pub const WIRE_VERSION: u8 = peerster_core::wire::WIRE_VERSION;
