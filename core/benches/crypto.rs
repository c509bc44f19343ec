//! Crypto micro-benchmark: our wrappers next to the bare primitive calls, in one process.
//!
//! Run with `cargo bench -p peerster-core --bench crypto`. A small self-contained harness
//! (no criterion): each operation is warmed up, then timed in several batches sized to about
//! 20 ms each, and the median ns/op over the batches is reported with the ratio ours / bare.
//! `PEERSTER_BENCH_QUICK=1` shortens the run (for CI smoke tests).

use std::hint::black_box;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer, SigningKey};
use hpke::{Deserializable, OpModeR, OpModeS};
use peerster_core::crypto::{
    ClusterKey, EpochSecret, IdentityKey, PublicIdentity, kdf, seal_to, seal_to_into,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

type HpkeKem = hpke::kem::X25519HkdfSha256;
type HpkeKdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

mod harness;

use harness::{Harness, Row, print_table};

const MSG_LEN: usize = 1200;
const INFO: &[u8] = b"peerster/bench/v1";
const AAD: &[u8] = b"header";

fn main() {
    let h = Harness::from_args();
    let mut rows = Vec::new();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let mut msg = vec![0u8; MSG_LEN];
    rng.fill_bytes(&mut msg);

    // ---- X25519: the trial-decryption floor -------------------------------------------------
    let epoch = EpochSecret::generate(&mut rng);
    let peer = EpochSecret::generate(&mut rng).public();
    let static_secret = x25519_dalek::StaticSecret::from(*epoch.secret_bytes());
    let peer_pk = x25519_dalek::PublicKey::from(peer.0);
    let x25519_ns = h.measure(|| {
        black_box(static_secret.diffie_hellman(black_box(&peer_pk)));
    });
    rows.push(Row {
        name: "X25519 DH (EpochSecret::diffie_hellman)",
        ours: h.measure(|| {
            black_box(epoch.diffie_hellman(black_box(&peer)).unwrap());
        }),
        bare: Some((x25519_ns, "StaticSecret::diffie_hellman")),
    });
    rows.push(Row {
        name: "X25519 base mult (public key)",
        ours: h.measure(|| {
            black_box(x25519_dalek::PublicKey::from(black_box(&static_secret)));
        }),
        bare: None,
    });

    // ---- HPKE seal / open of 1200 bytes ----------------------------------------------------
    let recipient = EpochSecret::generate(&mut rng);
    let hpke_sk =
        <HpkeKem as hpke::Kem>::PrivateKey::from_bytes(&recipient.secret_bytes()[..]).unwrap();
    let hpke_pk = <HpkeKem as hpke::Kem>::PublicKey::from_bytes(&recipient.public().0).unwrap();
    let hpke_seal_ns = h.measure(|| {
        black_box(
            hpke::single_shot_seal_with_rng::<HpkeAead, HpkeKdf, HpkeKem>(
                &OpModeS::Base,
                &hpke_pk,
                INFO,
                black_box(&msg),
                AAD,
                &mut rng,
            )
            .unwrap(),
        );
    });
    let recipient_pub = recipient.public();
    let mut buf = Vec::with_capacity(MSG_LEN + 64);
    rows.push(Row {
        name: "HPKE seal 1200 B (seal_to)",
        ours: h.measure(|| {
            black_box(seal_to(&mut rng, &recipient_pub, INFO, AAD, black_box(&msg)).unwrap());
        }),
        bare: Some((hpke_seal_ns, "hpke::single_shot_seal_with_rng")),
    });
    rows.push(Row {
        name: "HPKE seal 1200 B (seal_to_into, reused buf)",
        ours: h.measure(|| {
            buf.clear();
            seal_to_into(
                &mut rng,
                &recipient_pub,
                INFO,
                AAD,
                black_box(&msg),
                &mut buf,
            )
            .unwrap();
            black_box(&buf);
        }),
        bare: Some((hpke_seal_ns, "hpke::single_shot_seal_with_rng")),
    });

    let sealed = seal_to(&mut rng, &recipient_pub, INFO, AAD, &msg).unwrap();
    let (enc_bytes, ct) = sealed.split_at(32);
    let hpke_open_ns = h.measure(|| {
        let enc = <HpkeKem as hpke::Kem>::EncappedKey::from_bytes(black_box(enc_bytes)).unwrap();
        black_box(
            hpke::single_shot_open::<HpkeAead, HpkeKdf, HpkeKem>(
                &OpModeR::Base,
                &hpke_sk,
                &enc,
                INFO,
                black_box(ct),
                AAD,
            )
            .unwrap(),
        );
    });
    rows.push(Row {
        name: "HPKE open 1200 B (open)",
        ours: h.measure(|| {
            black_box(recipient.open(INFO, AAD, black_box(&sealed)).unwrap());
        }),
        bare: Some((hpke_open_ns, "hpke::single_shot_open")),
    });
    rows.push(Row {
        name: "HPKE open 1200 B (open_into, reused buf)",
        ours: h.measure(|| {
            buf.clear();
            recipient
                .open_into(INFO, AAD, black_box(&sealed), &mut buf)
                .unwrap();
            black_box(&buf);
        }),
        bare: Some((hpke_open_ns, "hpke::single_shot_open")),
    });
    let not_for_us = EpochSecret::generate(&mut rng);
    rows.push(Row {
        name: "HPKE trial open, not for us (open_into)",
        ours: h.measure(|| {
            buf.clear();
            let r = not_for_us.open_into(INFO, AAD, black_box(&sealed), &mut buf);
            black_box(r.is_err());
        }),
        bare: Some((x25519_ns, "one X25519 (the floor)")),
    });
    rows.push(Row {
        name: "HPKE open 1200 B, vs one X25519",
        ours: h.measure(|| {
            buf.clear();
            recipient
                .open_into(INFO, AAD, black_box(&sealed), &mut buf)
                .unwrap();
            black_box(&buf);
        }),
        bare: Some((x25519_ns, "one X25519 (the floor)")),
    });

    // ---- Cluster AEAD (XChaCha20-Poly1305) of 1200 bytes -----------------------------------
    let cluster = ClusterKey::generate(&mut rng);
    let xchacha = XChaCha20Poly1305::new(&(*cluster.as_bytes()).into());
    let chacha = ChaCha20Poly1305::new(&(*cluster.as_bytes()).into());
    let xnonce = XNonce::from([3u8; 24]);
    let nonce = Nonce::from([3u8; 12]);
    let mut work = msg.clone();
    let bare_x_seal = h.measure(|| {
        black_box(
            xchacha
                .encrypt_inout_detached(&xnonce, AAD, work.as_mut_slice().into())
                .unwrap(),
        );
    });
    let bare_c_seal = h.measure(|| {
        black_box(
            chacha
                .encrypt_inout_detached(&nonce, AAD, work.as_mut_slice().into())
                .unwrap(),
        );
    });
    rows.push(Row {
        name: "cluster seal 1200 B (seal)",
        ours: h.measure(|| {
            black_box(cluster.seal(&mut rng, AAD, black_box(&msg)));
        }),
        bare: Some((bare_x_seal, "XChaCha20Poly1305 encrypt")),
    });
    let cluster_seal_into = h.measure(|| {
        buf.clear();
        cluster.seal_into(&mut rng, AAD, black_box(&msg), &mut buf);
        black_box(&buf);
    });
    rows.push(Row {
        name: "cluster seal 1200 B (seal_into, reused buf)",
        ours: cluster_seal_into,
        bare: Some((bare_x_seal, "XChaCha20Poly1305 encrypt")),
    });
    rows.push(Row {
        name: "cluster seal 1200 B (seal_into, reused buf)",
        ours: cluster_seal_into,
        bare: Some((bare_c_seal, "ChaCha20Poly1305 encrypt")),
    });

    let csealed = cluster.seal(&mut rng, AAD, &msg);
    let ctext = csealed[24..csealed.len() - 16].to_vec();
    let ctag = chacha20poly1305::Tag::try_from(&csealed[csealed.len() - 16..]).unwrap();
    let cnonce = XNonce::try_from(&csealed[..24]).unwrap();
    let bare_x_open = h.measure(|| {
        work.clear();
        work.extend_from_slice(black_box(&ctext));
        xchacha
            .decrypt_inout_detached(&cnonce, AAD, work.as_mut_slice().into(), &ctag)
            .unwrap();
        black_box(&work);
    });
    rows.push(Row {
        name: "cluster open 1200 B (open)",
        ours: h.measure(|| {
            black_box(cluster.open(AAD, black_box(&csealed)).unwrap());
        }),
        bare: Some((bare_x_open, "XChaCha20Poly1305 decrypt")),
    });
    rows.push(Row {
        name: "cluster open 1200 B (open_into, reused buf)",
        ours: h.measure(|| {
            buf.clear();
            cluster
                .open_into(AAD, black_box(&csealed), &mut buf)
                .unwrap();
            black_box(&buf);
        }),
        bare: Some((bare_x_open, "XChaCha20Poly1305 decrypt")),
    });

    // ---- Ed25519 ----------------------------------------------------------------------------
    let identity = IdentityKey::generate(&mut rng);
    let signing = SigningKey::from_bytes(&identity.secret_bytes());
    let verifying = signing.verifying_key();
    let public = identity.public();
    let sig = identity.sign(&msg[..100]);
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    rows.push(Row {
        name: "Ed25519 sign 100 B",
        ours: h.measure(|| {
            black_box(identity.sign(black_box(&msg[..100])));
        }),
        bare: Some((
            h.measure(|| {
                black_box(signing.sign(black_box(&msg[..100])));
            }),
            "SigningKey::sign",
        )),
    });
    let bare_verify_strict = h.measure(|| {
        verifying
            .verify_strict(black_box(&msg[..100]), &dalek_sig)
            .unwrap();
    });
    rows.push(Row {
        name: "Ed25519 verify 100 B",
        ours: h.measure(|| {
            public.verify(black_box(&msg[..100]), &sig).unwrap();
        }),
        bare: Some((bare_verify_strict, "VerifyingKey::verify_strict")),
    });
    rows.push(Row {
        name: "Ed25519 verify 100 B (lax, for reference)",
        ours: bare_verify_strict,
        bare: Some((
            h.measure(|| {
                ed25519_dalek::Verifier::verify(&verifying, black_box(&msg[..100]), &dalek_sig)
                    .unwrap();
            }),
            "VerifyingKey::verify",
        )),
    });
    let pk_bytes = *public.as_bytes();
    rows.push(Row {
        name: "PublicIdentity::from_bytes (canonical check)",
        ours: h.measure(|| {
            black_box(PublicIdentity::from_bytes(black_box(pk_bytes)).unwrap());
        }),
        bare: Some((
            h.measure(|| {
                black_box(ed25519_dalek::VerifyingKey::from_bytes(black_box(&pk_bytes)).unwrap());
            }),
            "VerifyingKey::from_bytes",
        )),
    });

    // ---- HKDF-SHA256 ------------------------------------------------------------------------
    let ikm = [5u8; 32];
    rows.push(Row {
        name: "HKDF-SHA256 32-byte key (derive_key32)",
        ours: h.measure(|| {
            black_box(kdf::derive_key32(
                b"salt",
                black_box(&ikm),
                b"peerster/x/v1",
            ));
        }),
        bare: Some((
            h.measure(|| {
                let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"salt"), black_box(&ikm));
                let mut out = [0u8; 32];
                hk.expand(b"peerster/x/v1", &mut out).unwrap();
                black_box(out);
            }),
            "Hkdf::new + expand",
        )),
    });

    print_table("crypto", &rows, h.quick);
}
