//! Known-answer tests for every primitive `peerster_core::crypto` uses, run through our wrappers
//! wherever a wrapper exists:
//!
//! * Wycheproof (vendored in `tests/vectors/wycheproof/`, see its README): X25519,
//!   ChaCha20-Poly1305, XChaCha20-Poly1305, HKDF-SHA256, Ed25519. Every test case is checked,
//!   valid, invalid and acceptable alike, and the number of cases is asserted so that an empty
//!   or truncated file fails.
//! * RFC vectors: RFC 8439 (§2.8.2, A.5), RFC 7748 (§5.2, §6.1), RFC 5869 (test cases 1-3),
//!   RFC 8032 (§7.1 TEST 1, 2, 3, SHA(abc)), RFC 9180 (A.2.1, our HPKE suite in base mode).
//! * Cross-tests of our HPKE implementation against the `hpke` crate, both directions.

use std::collections::BTreeMap;
use std::convert::Infallible;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use peerster_core::crypto::{
    ClusterKey, CryptoError, EpochPublic, EpochSecret, IdentityKey, PublicIdentity, SEAL_OVERHEAD,
    Signature, cluster_aead, kdf, seal_to,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};
use serde_json::Value;

type HpkeKem = hpke::kem::X25519HkdfSha256;
type HpkeKdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

fn unhex32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

/// An "RNG" that hands out fixed bytes, to make a wrapper use a vector's nonce or ephemeral key.
struct FixedBytes(Vec<u8>);

impl TryRng for FixedBytes {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert!(dst.len() <= self.0.len(), "FixedBytes exhausted");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

impl TryCryptoRng for FixedBytes {}

// ---------------------------------------------------------------------------------------------
// Wycheproof
// ---------------------------------------------------------------------------------------------

fn wycheproof(name: &str) -> Value {
    let path = format!(
        "{}/tests/vectors/wycheproof/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Counts test cases by (expected result, what we did), so each suite can assert its totals.
#[derive(Default)]
struct Tally(BTreeMap<(String, &'static str), usize>);

impl Tally {
    fn add(&mut self, expected: &str, outcome: &'static str) {
        *self.0.entry((expected.to_owned(), outcome)).or_default() += 1;
    }

    fn total(&self) -> usize {
        self.0.values().sum()
    }

    fn get(&self, expected: &str, outcome: &'static str) -> usize {
        self.0
            .get(&(expected.to_owned(), outcome))
            .copied()
            .unwrap_or(0)
    }
}

/// Iterates over `(group, test)` pairs and checks the file's own `numberOfTests`.
fn cases(file: &Value) -> Vec<(&Value, &Value)> {
    let mut out = Vec::new();
    for group in file["testGroups"].as_array().expect("testGroups") {
        for test in group["tests"].as_array().expect("tests") {
            out.push((group, test));
        }
    }
    assert_eq!(
        out.len() as u64,
        file["numberOfTests"].as_u64().expect("numberOfTests"),
        "file's numberOfTests"
    );
    out
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string field {key}"))
}

/// X25519 through `EpochSecret::diffie_hellman`, the DH that `seal_to` and `open` use.
///
/// Our DH is RFC 7748 X25519 (scalar clamped, top bit of u masked, u reduced mod p), plus
/// RFC 9180 §7.1.4: an all-zero shared secret (any low-order public key) is rejected.
/// Wycheproof marks public keys on the twist, non-canonical encodings (u ≥ p) and low-order
/// points as "acceptable": we compute the first two exactly as the vector says and reject
/// every case whose shared secret is zero.
#[test]
fn wycheproof_x25519() {
    let file = wycheproof("x25519_test.json");
    assert_eq!(s(&file, "algorithm"), "XDH");
    let mut tally = Tally::default();
    for (group, test) in cases(&file) {
        assert_eq!(s(group, "curve"), "curve25519");
        let id = &test["tcId"];
        let result = s(test, "result");
        let private = unhex32(s(test, "private"));
        let public = unhex32(s(test, "public"));
        let shared = unhex(s(test, "shared"));
        let ours = EpochSecret::from_bytes(private).diffie_hellman(&EpochPublic(public));
        if shared.iter().all(|&b| b == 0) {
            assert_eq!(ours.map(|_| ()), Err(CryptoError::InvalidKey), "tcId {id}");
            tally.add(result, "rejected: zero shared secret");
        } else {
            assert_ne!(result, "invalid", "tcId {id}: no invalid cases expected");
            assert_eq!(
                ours.map(|k| k.to_vec()).as_deref(),
                Ok(&shared[..]),
                "tcId {id}"
            );
            tally.add(result, "computed");
        }
    }
    assert_eq!(tally.total(), 518);
    assert_eq!(tally.get("valid", "computed"), 264);
    assert_eq!(tally.get("acceptable", "computed"), 223);
    assert_eq!(tally.get("acceptable", "rejected: zero shared secret"), 31);
}

/// ChaCha20-Poly1305 (RFC 8439), the AEAD inside our HPKE suite, called as `seal.rs` calls it.
/// Nonce sizes other than 96 bits cannot be expressed and count as rejected.
#[test]
fn wycheproof_chacha20_poly1305() {
    let file = wycheproof("chacha20_poly1305_test.json");
    assert_eq!(s(&file, "algorithm"), "CHACHA20-POLY1305");
    let mut tally = Tally::default();
    for (group, test) in cases(&file) {
        assert_eq!(group["keySize"], 256);
        assert_eq!(group["tagSize"], 128);
        let id = &test["tcId"];
        let result = s(test, "result");
        let key: [u8; 32] = unhex32(s(test, "key"));
        let (iv, aad, msg, ct, tag) = (
            unhex(s(test, "iv")),
            unhex(s(test, "aad")),
            unhex(s(test, "msg")),
            unhex(s(test, "ct")),
            unhex(s(test, "tag")),
        );
        let Ok(nonce) = <[u8; 12]>::try_from(&iv[..]) else {
            assert_eq!(result, "invalid", "tcId {id}");
            tally.add(result, "rejected: nonce size");
            continue;
        };
        let cipher = ChaCha20Poly1305::new(&key.into());
        let nonce = Nonce::from(nonce);

        let mut sealed = msg.clone();
        let our_tag = cipher
            .encrypt_inout_detached(&nonce, &aad, sealed.as_mut_slice().into())
            .expect("seal");
        let tag_arr: [u8; 16] = tag.clone().try_into().expect("16-byte tag");
        let mut opened = ct.clone();
        let open = cipher.decrypt_inout_detached(
            &nonce,
            &aad,
            opened.as_mut_slice().into(),
            &Tag::from(tag_arr),
        );
        match result {
            "valid" => {
                assert_eq!(sealed, ct, "tcId {id} ciphertext");
                assert_eq!(our_tag[..], tag[..], "tcId {id} tag");
                assert!(open.is_ok(), "tcId {id} open");
                assert_eq!(opened, msg, "tcId {id} plaintext");
                tally.add(result, "sealed and opened");
            }
            "invalid" => {
                assert!(open.is_err(), "tcId {id} must not open");
                assert!(
                    sealed != ct || our_tag[..] != tag[..],
                    "tcId {id}: sealing gave the invalid output"
                );
                tally.add(result, "rejected: open failed");
            }
            other => panic!("tcId {id}: unexpected result {other}"),
        }
    }
    assert_eq!(tally.total(), 325);
    assert_eq!(tally.get("valid", "sealed and opened"), 256);
    assert_eq!(tally.get("invalid", "rejected: open failed"), 60);
    assert_eq!(tally.get("invalid", "rejected: nonce size"), 9);
}

/// XChaCha20-Poly1305 through `ClusterKey`: the vector's nonce is fed in as the "random" nonce,
/// so `seal` must produce `iv ‖ ct ‖ tag` and `open` must accept exactly the valid cases.
/// Nonces that are not 192 bits cannot be produced by `ClusterKey` and count as rejected; their
/// `iv ‖ ct ‖ tag` must not open either.
#[test]
fn wycheproof_xchacha20_poly1305_via_cluster_key() {
    let file = wycheproof("xchacha20_poly1305_test.json");
    assert_eq!(s(&file, "algorithm"), "XCHACHA20-POLY1305");
    let mut tally = Tally::default();
    for (group, test) in cases(&file) {
        assert_eq!(group["keySize"], 256);
        assert_eq!(group["tagSize"], 128);
        let id = &test["tcId"];
        let result = s(test, "result");
        let key = ClusterKey::from_bytes(unhex32(s(test, "key")));
        let (iv, aad, msg, ct, tag) = (
            unhex(s(test, "iv")),
            unhex(s(test, "aad")),
            unhex(s(test, "msg")),
            unhex(s(test, "ct")),
            unhex(s(test, "tag")),
        );
        let wire = [&iv[..], &ct[..], &tag[..]].concat();
        let open = key.open(&aad, &wire);
        if iv.len() != cluster_aead::NONCE_LEN {
            assert_eq!(result, "invalid", "tcId {id}");
            assert_eq!(open, Err(CryptoError::OpenFailed), "tcId {id}");
            tally.add(result, "rejected: nonce size");
            continue;
        }
        let sealed = key.seal(&mut FixedBytes(iv.clone()), &aad, &msg);
        let mut in_place = msg.clone();
        key.seal_in_place(&mut FixedBytes(iv.clone()), &aad, &mut in_place);
        assert_eq!(in_place, sealed, "tcId {id} seal_in_place");
        match result {
            "valid" => {
                assert_eq!(sealed, wire, "tcId {id} sealed");
                assert_eq!(open.as_deref(), Ok(&msg[..]), "tcId {id} open");
                let mut buf = wire.clone();
                key.open_in_place(&aad, &mut buf).expect("open_in_place");
                assert_eq!(buf, msg, "tcId {id} open_in_place");
                tally.add(result, "sealed and opened");
            }
            "invalid" => {
                assert_eq!(open, Err(CryptoError::OpenFailed), "tcId {id}");
                assert_ne!(sealed, wire, "tcId {id}: sealing gave the invalid output");
                tally.add(result, "rejected: open failed");
            }
            other => panic!("tcId {id}: unexpected result {other}"),
        }
    }
    assert_eq!(tally.total(), 315);
    assert_eq!(tally.get("valid", "sealed and opened"), 246);
    assert_eq!(tally.get("invalid", "rejected: open failed"), 60);
    assert_eq!(tally.get("invalid", "rejected: nonce size"), 9);
}

/// HKDF-SHA256 through `kdf::derive`; the invalid cases ask for more than 255 × 32 bytes.
#[test]
fn wycheproof_hkdf_sha256() {
    let file = wycheproof("hkdf_sha256_test.json");
    assert_eq!(s(&file, "algorithm"), "HKDF-SHA-256");
    let mut tally = Tally::default();
    for (_, test) in cases(&file) {
        let id = &test["tcId"];
        let result = s(test, "result");
        let size = test["size"].as_u64().expect("size") as usize;
        let mut out = vec![0u8; size];
        let derived = kdf::derive(
            &unhex(s(test, "salt")),
            &unhex(s(test, "ikm")),
            &unhex(s(test, "info")),
            &mut out,
        );
        match result {
            "valid" => {
                assert_eq!(derived, Ok(()), "tcId {id}");
                assert_eq!(out, unhex(s(test, "okm")), "tcId {id}");
                tally.add(result, "derived");
            }
            "invalid" => {
                assert_eq!(derived, Err(CryptoError::KdfOutputTooLong), "tcId {id}");
                tally.add(result, "rejected");
            }
            other => panic!("tcId {id}: unexpected result {other}"),
        }
    }
    assert_eq!(tally.total(), 86);
    assert_eq!(tally.get("valid", "derived"), 83);
    assert_eq!(tally.get("invalid", "rejected"), 3);
}

/// Ed25519 through `PublicIdentity::from_bytes` + `PublicIdentity::verify` (strict).
/// Signatures that are not 64 bytes cannot be a `Signature` and count as rejected.
#[test]
fn wycheproof_ed25519_strict() {
    let file = wycheproof("ed25519_test.json");
    assert_eq!(s(&file, "algorithm"), "EDDSA");
    let mut tally = Tally::default();
    for (group, test) in cases(&file) {
        let id = &test["tcId"];
        let result = s(test, "result");
        assert_eq!(s(&group["publicKey"], "curve"), "edwards25519");
        let public = PublicIdentity::from_bytes(unhex32(s(&group["publicKey"], "pk")));
        let msg = unhex(s(test, "msg"));
        let sig = unhex(s(test, "sig"));
        let outcome: Result<(), &'static str> = match (public, <[u8; 64]>::try_from(&sig[..])) {
            (Err(_), _) => Err("rejected: public key"),
            (_, Err(_)) => Err("rejected: signature length"),
            (Ok(pk), Ok(sig)) => pk
                .verify(&msg, &Signature(sig))
                .map_err(|_| "rejected: verify"),
        };
        match (result, outcome) {
            ("valid", Ok(())) => tally.add(result, "verified"),
            ("invalid", Err(why)) => tally.add(result, why),
            (_, outcome) => panic!("tcId {id}: expected {result}, got {outcome:?}"),
        }
    }
    assert_eq!(tally.total(), 151);
    assert_eq!(tally.get("valid", "verified"), 88);
    assert_eq!(tally.get("invalid", "rejected: verify"), 51);
    assert_eq!(tally.get("invalid", "rejected: signature length"), 12);
}

// ---------------------------------------------------------------------------------------------
// RFC 8439: ChaCha20-Poly1305 AEAD (the AEAD of our HPKE suite)
// ---------------------------------------------------------------------------------------------

/// RFC 8439 §2.8.2, "Example and Test Vector for AEAD_CHACHA20_POLY1305".
#[test]
fn rfc8439_2_8_2_aead_encrypt() {
    let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one \
tip for the future, sunscreen would be it.";
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let key = unhex32("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    // nonce = 32-bit constant 07 00 00 00 ‖ IV 40..47
    let nonce: [u8; 12] = unhex("070000004041424344454647").try_into().unwrap();
    let expected_ct = unhex(concat!(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6",
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36",
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc",
        "3ff4def08e4b7a9de576d26586cec64b6116"
    ));
    let expected_tag = unhex("1ae10b594f09e26a7e902ecbd0600691");
    assert_eq!(plaintext.len(), 114);

    let cipher = ChaCha20Poly1305::new(&key.into());
    let mut buf = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), &aad, buf.as_mut_slice().into())
        .unwrap();
    assert_eq!(buf, expected_ct);
    assert_eq!(tag[..], expected_tag[..]);
    cipher
        .decrypt_inout_detached(&Nonce::from(nonce), &aad, buf.as_mut_slice().into(), &tag)
        .unwrap();
    assert_eq!(buf, plaintext);
}

/// RFC 8439 Appendix A.5, "ChaCha20-Poly1305 AEAD Decryption".
#[test]
fn rfc8439_a5_aead_decrypt() {
    let key = unhex32("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
    let ciphertext = unhex(concat!(
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2",
        "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf",
        "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855",
        "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4",
        "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e",
        "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a",
        "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10",
        "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29",
        "a6ad5cb4022b02709b"
    ));
    let nonce: [u8; 12] = unhex("000000000102030405060708").try_into().unwrap();
    let aad = unhex("f33388860000000000004e91");
    let tag: [u8; 16] = unhex("eead9d67890cbb22392336fea1851f38")
        .try_into()
        .unwrap();
    let expected = unhex(concat!(
        "496e7465726e65742d4472616674732061726520647261667420646f63756d65",
        "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d",
        "6f6e74687320616e64206d617920626520757064617465642c207265706c6163",
        "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65",
        "6e747320617420616e792074696d652e20497420697320696e617070726f7072",
        "6961746520746f2075736520496e7465726e65742d4472616674732061732072",
        "65666572656e6365206d6174657269616c206f7220746f206369746520746865",
        "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67",
        "726573732e2fe2809d"
    ));
    assert_eq!(ciphertext.len(), 265);
    assert_eq!(expected.len(), 265);

    let cipher = ChaCha20Poly1305::new(&key.into());
    let mut buf = ciphertext.clone();
    cipher
        .decrypt_inout_detached(
            &Nonce::from(nonce),
            &aad,
            buf.as_mut_slice().into(),
            &Tag::from(tag),
        )
        .expect("tag verifies");
    assert_eq!(buf, expected);
    // And the other way round.
    let again = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), &aad, buf.as_mut_slice().into())
        .unwrap();
    assert_eq!(buf, ciphertext);
    assert_eq!(again[..], tag[..]);
}

// ---------------------------------------------------------------------------------------------
// RFC 7748: X25519, through EpochSecret
// ---------------------------------------------------------------------------------------------

fn x25519(scalar: [u8; 32], u: [u8; 32]) -> [u8; 32] {
    *EpochSecret::from_bytes(scalar)
        .diffie_hellman(&EpochPublic(u))
        .expect("non-zero")
}

/// RFC 7748 §5.2: the two single-multiplication vectors.
#[test]
fn rfc7748_5_2_x25519_vectors() {
    assert_eq!(
        x25519(
            unhex32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
            unhex32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
        ),
        unhex32("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    );
    // The u-coordinate has its top bit set: X25519 must mask it.
    assert_eq!(
        x25519(
            unhex32("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
            unhex32("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
        ),
        unhex32("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957")
    );
}

/// RFC 7748 §5.2: the iterated test, after 1 and 1,000 iterations (the 1,000,000-iteration
/// value is not checked: it takes minutes).
#[test]
fn rfc7748_5_2_x25519_iterated() {
    let mut k = [0u8; 32];
    k[0] = 9;
    let mut u = k;
    for i in 1..=1000 {
        let result = x25519(k, u);
        u = k;
        k = result;
        if i == 1 {
            assert_eq!(
                k,
                unhex32("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
            );
        }
    }
    assert_eq!(
        k,
        unhex32("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
    );
}

/// RFC 7748 §6.1: Diffie-Hellman between Alice and Bob.
#[test]
fn rfc7748_6_1_diffie_hellman() {
    let alice = EpochSecret::from_bytes(unhex32(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    ));
    let bob = EpochSecret::from_bytes(unhex32(
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    ));
    assert_eq!(
        alice.public().0,
        unhex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        bob.public().0,
        unhex32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let shared = unhex32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(*alice.diffie_hellman(&bob.public()).unwrap(), shared);
    assert_eq!(*bob.diffie_hellman(&alice.public()).unwrap(), shared);
}

// ---------------------------------------------------------------------------------------------
// RFC 5869: HKDF-SHA256, through kdf::derive
// ---------------------------------------------------------------------------------------------

#[test]
fn rfc5869_hkdf_sha256_test_cases_1_to_3() {
    struct Case {
        ikm: Vec<u8>,
        salt: Vec<u8>,
        info: Vec<u8>,
        prk: [u8; 32],
        okm: Vec<u8>,
    }
    let range = |from: u8, to: u8| (from..=to).collect::<Vec<u8>>();
    let cases = [
        // A.1 Test Case 1: basic test case with SHA-256
        Case {
            ikm: vec![0x0b; 22],
            salt: range(0x00, 0x0c),
            info: range(0xf0, 0xf9),
            prk: unhex32("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"),
            okm: unhex(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
            ),
        },
        // A.2 Test Case 2: longer inputs and outputs
        Case {
            ikm: range(0x00, 0x4f),
            salt: range(0x60, 0xaf),
            info: range(0xb0, 0xff),
            prk: unhex32("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"),
            okm: unhex(concat!(
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c",
                "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71",
                "cc30c58179ec3e87c14c01d5c1f3434f1d87"
            )),
        },
        // A.3 Test Case 3: zero-length salt and info
        Case {
            ikm: vec![0x0b; 22],
            salt: vec![],
            info: vec![],
            prk: unhex32("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"),
            okm: unhex(
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
            ),
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let mut okm = vec![0u8; case.okm.len()];
        kdf::derive(&case.salt, &case.ikm, &case.info, &mut okm).unwrap();
        assert_eq!(okm, case.okm, "test case {}", i + 1);
        if case.okm.len() >= 32 {
            let key = kdf::derive_key32(&case.salt, &case.ikm, &case.info);
            assert_eq!(key[..], case.okm[..32], "test case {}", i + 1);
        }
        // The PRK is internal to kdf::derive; check it on the same hkdf crate it calls.
        let (prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(&case.salt), &case.ikm);
        assert_eq!(prk[..], case.prk[..], "test case {} PRK", i + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 8032: Ed25519, through IdentityKey / PublicIdentity
// ---------------------------------------------------------------------------------------------

#[test]
fn rfc8032_7_1_ed25519() {
    use sha2::Digest;
    let sha512_abc = sha2::Sha512::digest(b"abc").to_vec();
    let cases: [(&str, &str, &str, Vec<u8>, &str); 4] = [
        (
            "TEST 1",
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            vec![],
            concat!(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155",
                "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            ),
        ),
        (
            "TEST 2",
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            vec![0x72],
            concat!(
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
                "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
            ),
        ),
        (
            "TEST 3",
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            vec![0xaf, 0x82],
            concat!(
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac",
                "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
            ),
        ),
        (
            "TEST SHA(abc)",
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            sha512_abc,
            concat!(
                "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589",
                "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"
            ),
        ),
    ];
    for (name, sk, pk, msg, sig) in cases {
        let key = IdentityKey::from_secret_bytes(unhex32(sk));
        let public = key.public();
        assert_eq!(public.as_bytes(), &unhex32(pk), "{name} public key");
        assert_eq!(
            PublicIdentity::from_bytes(unhex32(pk)),
            Ok(public),
            "{name}"
        );
        let expected = Signature(unhex(sig).try_into().unwrap());
        assert_eq!(key.sign(&msg), expected, "{name} signature");
        assert_eq!(public.verify(&msg, &expected), Ok(()), "{name} verify");
        let mut other = msg.clone();
        other.push(0);
        assert_eq!(
            public.verify(&other, &expected),
            Err(CryptoError::BadSignature),
            "{name} wrong message"
        );
        assert_eq!(*key.secret_bytes(), unhex32(sk), "{name} secret round trip");
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode
// ---------------------------------------------------------------------------------------------

const A21_INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
const A21_IKM_E: &str = "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b";
const A21_PK_EM: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
const A21_SK_EM: &str = "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600";
const A21_IKM_R: &str = "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df";
const A21_PK_RM: &str = "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a";
const A21_SK_RM: &str = "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb";
const A21_ENC: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
const A21_PT: &str = "4265617574792069732074727574682c20747275746820626561757479";
/// (sequence number, aad, ct) of A.2.1.1 "Encryptions".
const A21_ENCRYPTIONS: [(u64, &str, &str); 6] = [
    (
        0,
        "436f756e742d30",
        "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
    ),
    (
        1,
        "436f756e742d31",
        "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c",
    ),
    (
        2,
        "436f756e742d32",
        "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b",
    ),
    (
        4,
        "436f756e742d34",
        "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122bb153495ff0b02e9e54a50dbe16",
    ),
    (
        255,
        "436f756e742d323535",
        "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b8880a5f6b3936da9cd6c23ef2a95c",
    ),
    (
        256,
        "436f756e742d323536",
        "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076214c0c40d4c728d6ed9e727a5b",
    ),
];

/// RFC 7748 clamping; the RFC 9180 vectors list skEm/skRm unclamped, our keys store them clamped.
fn clamped(hex: &str) -> [u8; 32] {
    let mut k = unhex32(hex);
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    k
}

#[test]
fn rfc9180_a21_derive_key_pair() {
    let e = EpochSecret::derive(&unhex(A21_IKM_E));
    assert_eq!(e.public().0, unhex32(A21_PK_EM));
    assert_eq!(*e.secret_bytes(), clamped(A21_SK_EM));
    let r = EpochSecret::derive(&unhex(A21_IKM_R));
    assert_eq!(r.public().0, unhex32(A21_PK_RM));
    assert_eq!(*r.secret_bytes(), clamped(A21_SK_RM));
    assert_eq!(
        EpochSecret::from_bytes(unhex32(A21_SK_RM)).public().0,
        unhex32(A21_PK_RM)
    );
    assert_eq!(A21_ENC, A21_PK_EM, "enc is pkEm");
}

/// Opening the listed sequence-0 ciphertext with skR gives pt; sealing with the ephemeral key
/// fixed (ikmE fed in as the RNG output) gives exactly enc ‖ ct.
#[test]
fn rfc9180_a21_single_shot_seal_and_open() {
    let info = unhex(A21_INFO);
    let pt = unhex(A21_PT);
    let recipient = EpochSecret::from_bytes(unhex32(A21_SK_RM));
    let (seq, aad, ct) = A21_ENCRYPTIONS[0];
    assert_eq!(seq, 0);
    let aad = unhex(aad);
    let wire = [unhex(A21_ENC), unhex(ct)].concat();
    assert_eq!(wire.len(), pt.len() + SEAL_OVERHEAD);

    assert_eq!(recipient.open(&info, &aad, &wire).unwrap(), pt);
    let mut buf = wire.clone();
    recipient.open_in_place(&info, &aad, &mut buf).unwrap();
    assert_eq!(buf, pt);

    let sealed = seal_to(
        &mut FixedBytes(unhex(A21_IKM_E)),
        &EpochPublic(unhex32(A21_PK_RM)),
        &info,
        &aad,
        &pt,
    )
    .unwrap();
    assert_eq!(hex::encode(&sealed), hex::encode(&wire));

    // Single-shot messages always use sequence number 0: the later ciphertexts of the same
    // context (different nonces) must not open as single-shot messages.
    for (seq, aad, ct) in &A21_ENCRYPTIONS[1..] {
        let wire = [unhex(A21_ENC), unhex(ct)].concat();
        assert_eq!(
            recipient.open(&info, &unhex(aad), &wire),
            Err(CryptoError::OpenFailed),
            "sequence {seq}"
        );
    }
}

/// The reference we cross-test against, the `hpke` crate, agrees with RFC 9180 A.2.1 too,
/// for the consecutive sequence numbers 0, 1, 2 (its context cannot skip ahead to 4, 255, 256;
/// those are checked on our key schedule in `seal.rs`'s unit tests).
#[test]
fn rfc9180_a21_hpke_crate_reference() {
    let info = unhex(A21_INFO);
    let pt = unhex(A21_PT);
    let (sk_r, pk_r) = HpkeKem::derive_keypair(&unhex(A21_IKM_R));
    assert_eq!(pk_r.to_bytes()[..], unhex(A21_PK_RM)[..]);
    let enc = <HpkeKem as hpke::Kem>::EncappedKey::from_bytes(&unhex(A21_ENC)).unwrap();
    let mut ctx =
        hpke::setup_receiver::<HpkeAead, HpkeKdf, HpkeKem>(&OpModeR::Base, &sk_r, &enc, &info)
            .unwrap();
    for (seq, aad, ct) in &A21_ENCRYPTIONS[..3] {
        assert_eq!(
            ctx.open(&unhex(ct), &unhex(aad)).unwrap(),
            pt,
            "sequence {seq}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-tests against the `hpke` crate
// ---------------------------------------------------------------------------------------------

const LENGTHS: [usize; 8] = [0, 1, 15, 16, 17, 64, 255, 1152];

#[test]
fn hpke_crate_opens_what_we_seal() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    for (i, len) in LENGTHS.into_iter().enumerate() {
        let recipient = EpochSecret::generate(&mut rng);
        let sk =
            <HpkeKem as hpke::Kem>::PrivateKey::from_bytes(&recipient.secret_bytes()[..]).unwrap();
        let pt: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        let info = format!("peerster/test/{i}").into_bytes();
        let aad = vec![i as u8; i];
        let sealed = seal_to(&mut rng, &recipient.public(), &info, &aad, &pt).unwrap();
        let (enc, ct) = sealed.split_at(32);
        let enc = <HpkeKem as hpke::Kem>::EncappedKey::from_bytes(enc).unwrap();
        let opened = hpke::single_shot_open::<HpkeAead, HpkeKdf, HpkeKem>(
            &OpModeR::Base,
            &sk,
            &enc,
            &info,
            ct,
            &aad,
        )
        .unwrap();
        assert_eq!(opened, pt, "length {len}");
    }
}

#[test]
fn we_open_what_hpke_crate_seals_and_bytes_match() {
    for (i, len) in LENGTHS.into_iter().enumerate() {
        let seed = [i as u8 + 100; 32];
        let (sk, pk) = HpkeKem::gen_keypair_with_rng(&mut ChaCha20Rng::from_seed(seed));
        let recipient = EpochSecret::from_bytes(sk.to_bytes().into());
        assert_eq!(recipient.public().0[..], pk.to_bytes()[..]);
        let pt: Vec<u8> = (0..len).map(|j| (i * 7 + j * 3) as u8).collect();
        let info = format!("peerster/info/{len}").into_bytes();
        let aad = format!("aad {len}").into_bytes();

        let mut their_rng = ChaCha20Rng::from_seed([i as u8; 32]);
        let (enc, ct) = hpke::single_shot_seal_with_rng::<HpkeAead, HpkeKdf, HpkeKem>(
            &OpModeS::Base,
            &pk,
            &info,
            &pt,
            &aad,
            &mut their_rng,
        )
        .unwrap();
        let theirs = [&enc.to_bytes()[..], &ct[..]].concat();
        assert_eq!(
            recipient.open(&info, &aad, &theirs).unwrap(),
            pt,
            "length {len}"
        );

        // Same RNG state, same bytes: our ephemeral key is drawn exactly as hpke draws it.
        let mut our_rng = ChaCha20Rng::from_seed([i as u8; 32]);
        let ours = seal_to(&mut our_rng, &recipient.public(), &info, &aad, &pt).unwrap();
        assert_eq!(ours, theirs, "length {len}");
    }
}
