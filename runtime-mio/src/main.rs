//! `peerster`: the node binary.

fn main() {
    eprintln!(
        "peerster {} (wire v{}): the UDP node is not built yet; \
         run `cargo run -p peerster-sim` for the in-memory demo",
        env!("CARGO_PKG_VERSION"),
        peerster_mio::WIRE_VERSION
    );
    std::process::exit(2);
}
