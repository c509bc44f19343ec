//! The control socket of a running node: `peerster ctl` (or any program) talks to the node
//! over the Unix socket `DATA_DIR/control.sock`, one JSON request per line and one JSON reply
//! per line; the protocol is described in [`protocol`]. The socket is served on the event
//! loop's own poll (`server.rs`), and requests are carried out inside the loop, as the
//! commands of standard input are (`event_loop/control.rs`). The client side is `ctl.rs`.

pub mod protocol;
pub(crate) mod render;
pub(crate) mod server;

/// The name of the control socket in the data directory.
pub const SOCKET_NAME: &str = "control.sock";
