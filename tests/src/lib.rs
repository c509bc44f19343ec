//! Cross-crate integration tests for Peerster live in `tests/tests/`; this library is empty.
