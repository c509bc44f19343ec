//! The `peerster` binary driven only through `peerster ctl --json`: three processes form a
//! cluster, a post reaches a watcher, and a call placed with `--wait` reports what it carried;
//! bad input on the control socket gets errors and leaves the node running; one node per data
//! directory, with a private socket.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::steps::ctl_until;
use common::{Lines, Peerster, WAIT, ctl, ctl_output};
use peerster_audio::SAMPLE_RATE_HZ;
use peerster_audio::signal::{best_lag, energy, synthetic_voice};
use peerster_audio::wav::{read_wav, write_wav};
use serde_json::Value;

const RATE: usize = SAMPLE_RATE_HZ as usize;

fn string(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
}

#[test]
fn three_nodes_driven_by_ctl_post_and_call() {
    let yes = ["--auto-vote", "yes"];
    let mut a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--name",
        "alice",
        "--create-cluster",
        yes[0],
        yes[1],
    ]);
    let status = ctl_until("wait", &a.data_dir, &["status"], WAIT, |s| {
        !s["cluster"].is_null()
    });
    let a_id = string(&status["fingerprint"]).to_string();
    assert_eq!(a_id.len(), 32, "{status}");
    assert!(a_id.chars().all(|c| c.is_ascii_hexdigit()), "{status}");
    assert_eq!(status["name"], "alice");
    assert_eq!(string(&status["cluster"]).len(), 16, "{status}");
    assert!(status["epoch"].is_u64(), "{status}");
    assert!(status["peers"].is_u64(), "{status}");
    let a_addr = string(&status["listen"]).to_string();
    assert!(a_addr.starts_with("127.0.0.1:"), "{status}");

    let joiner = ["--listen", "127.0.0.1:0", "--join", &a_addr, yes[0], yes[1]];
    let mut b = Peerster::run(&joiner);
    let mut c = Peerster::run(&joiner);
    let members = ctl_until("wait", &a.data_dir, &["members"], WAIT, |m| {
        m["members"].as_array().is_some_and(|list| list.len() == 3)
    });
    let b_id = string(&ctl(&b.data_dir, &["status"])["fingerprint"]).to_string();
    let c_id = string(&ctl(&c.data_dir, &["status"])["fingerprint"]).to_string();
    let listed: Vec<&str> = (members["members"].as_array().unwrap().iter())
        .map(|m| string(&m["fingerprint"]))
        .collect();
    for id in [&a_id, &b_id, &c_id] {
        assert!(listed.contains(&id.as_str()), "{id} not in {members}");
    }
    let alice = (members["members"].as_array().unwrap().iter())
        .find(|m| m["fingerprint"] == a_id.as_str())
        .unwrap();
    assert_eq!(alice["name"], "alice");
    for node in [&b, &c] {
        ctl_until("wait", &node.data_dir, &["members"], WAIT, |m| {
            m["members"].as_array().is_some_and(|list| list.len() == 3)
        });
    }

    // C watches; B posts.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["ctl", "--json", "watch", "--data-dir"])
        .arg(&c.data_dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watched = Lines::read("C's watch", watch.stdout.take().unwrap());
    watched.wait_for(&[r#""watching":true"#]);
    let posted = ctl(&b.data_dir, &["post", "hello from B"]);
    assert!(posted["seq"].is_u64(), "{posted}");
    let line = watched.wait_for(&[r#""kind":"post""#, "hello from B"]);
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["author"], b_id.as_str(), "{event}");

    // A calls B and waits for the end; B answers with files named relative to its own
    // directory, which the client makes absolute.
    let dir = tempfile::tempdir().unwrap();
    let (a_in, a_out) = (dir.path().join("a-in.wav"), dir.path().join("a-out.wav"));
    let said_by_a = synthetic_voice(2 * RATE, 1);
    write_wav(&a_in, &said_by_a).unwrap();
    write_wav(dir.path().join("b-in.wav"), &synthetic_voice(4 * RATE, 2)).unwrap();
    let started = Instant::now();
    let caller = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["ctl", "--json", "--data-dir"])
        .arg(&a.data_dir)
        .args(["call", &b_id[..6], "--wait", "--input"])
        .arg(&a_in)
        .arg("--output")
        .arg(&a_out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let calls = ctl_until("wait", &b.data_dir, &["calls"], WAIT, |r| {
        r["calls"]
            .as_array()
            .is_some_and(|calls| calls.iter().any(|call| call["state"] == "incoming"))
    });
    let call_id = string(&calls["calls"][0]["call"]).to_string();
    assert_eq!(calls["calls"][0]["role"], "callee");
    let answered = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["ctl", "--json", "--data-dir"])
        .arg(&b.data_dir)
        .args(["answer", "--input", "b-in.wav", "--output", "b-out.wav"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(answered.status.success(), "{answered:?}");
    let answered: Value = serde_json::from_slice(&answered.stdout).unwrap();
    assert_eq!(answered["call"], call_id.as_str());

    let report = caller.wait_with_output().unwrap();
    let lasted = started.elapsed();
    assert!(report.status.success(), "{report:?}");
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["call"], call_id.as_str(), "{report}");
    assert_eq!(report["reason"], "input_ended", "{report}");
    assert!(report["frames_sent"].as_u64().unwrap() > 100, "{report}");
    assert!(report["frames_received"].as_u64().unwrap() > 0, "{report}");
    assert!(report["heard_s"].as_f64().unwrap() > 1.0, "{report}");
    assert_eq!(report["output"], a_out.to_str().unwrap(), "{report}");
    assert!(
        lasted < Duration::from_secs(10),
        "the call lasted {lasted:?}"
    );

    // B's recording, written once B saw the call end, is what A said.
    let b_out = dir.path().join("b-out.wav");
    ctl_until("wait", &b.data_dir, &["calls"], WAIT, |r| {
        r["calls"] == Value::Array(vec![])
    });
    let deadline = Instant::now() + WAIT;
    let heard_by_b = loop {
        let heard = read_wav(&b_out).unwrap_or_default();
        if heard.len() > 2 * RATE || Instant::now() > deadline {
            break heard;
        }
        thread::sleep(Duration::from_millis(100));
    };
    assert!(energy(&heard_by_b) > 1e5, "energy {}", energy(&heard_by_b));
    let (lag, corr) = best_lag(&said_by_a[..RATE / 2], &heard_by_b, RATE);
    assert!(corr > 0.5, "B heard A only to {corr:.2} (lag {lag})");

    // C, which relayed the call's voice, saw nothing of it.
    watched.take_pending();
    assert!(
        !watched.seen.iter().any(|line| line.contains(&call_id)),
        "{:?}",
        watched.seen
    );
    let _ = watch.kill();
    let _ = watch.wait();
    for node in [&mut a, &mut b, &mut c] {
        node.assert_running();
    }
}

/// Sends `bytes` on `stream` and reads one reply line.
fn exchange(stream: &mut BufReader<UnixStream>, bytes: &[u8]) -> Value {
    stream.get_mut().write_all(bytes).unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

#[test]
fn bad_input_on_the_control_socket_gets_errors_and_the_node_goes_on() {
    let mut node = Peerster::run(&["--listen", "127.0.0.1:0"]);
    ctl_until("wait", &node.data_dir, &["status"], WAIT, |_| true);
    let socket = node.data_dir.join("control.sock");
    let connect = || {
        let stream = UnixStream::connect(&socket).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        BufReader::new(stream)
    };

    let mut stream = connect();
    for (request, error) in [
        (&b"\x00\xffgarbage\n"[..], "bad request"),
        (
            b"{\"cmd\":\"frobnicate\"}\n",
            "unknown variant `frobnicate`",
        ),
        (b"{\"cmd\":\"post\"}\n", "missing field `text`"),
        (b"{\"cmd\":\"expel\",\"member\":\"zz\"}\n", "is not an id"),
        (b"{\"cmd\":\"members\"}\n", "not in a cluster"),
        (b"{\"cmd\":\"hangup\"}\n", "no ongoing call"),
    ] {
        let reply = exchange(&mut stream, request);
        assert_eq!(reply["ok"], false, "{reply}");
        assert!(
            string(&reply["error"]).contains(error),
            "{:?}: {reply}",
            String::from_utf8_lossy(request)
        );
    }
    // The connection still takes requests.
    let reply = exchange(&mut stream, b"{\"cmd\":\"peers\"}\n");
    assert_eq!(reply["peers"], Value::Array(vec![]), "{reply}");

    // A line of 100 KiB: an error, and the connection is closed.
    let mut long = vec![b'x'; 100 * 1024];
    long.push(b'\n');
    let reply = exchange(&mut stream, &long);
    assert!(
        string(&reply["error"]).contains("longer than 65536 bytes"),
        "{reply}"
    );
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));

    // Several requests on one line's worth of writes, on a new connection.
    let mut stream = connect();
    let reply = exchange(&mut stream, b"{\"cmd\":\"status\"}\n{\"cmd\":\"calls\"}\n");
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(string(&reply["fingerprint"]).len(), 32);
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    assert!(line.contains(r#""calls":[]"#), "{line}");

    // A client that leaves without reading does not disturb the node.
    drop(UnixStream::connect(&socket).unwrap());
    let mut rude = UnixStream::connect(&socket).unwrap();
    rude.write_all(b"{\"cmd\":\"status\"}\n{\"cmd\":").unwrap();
    drop(rude);
    let status = ctl(&node.data_dir, &["status"]);
    assert!(status["cluster"].is_null(), "{status}");
    node.assert_running();

    // Unknown ctl command: refused by the client itself.
    let output = ctl_output(&node.data_dir, &["frobnicate"]);
    assert!(!output.status.success());
}

#[test]
fn one_node_per_data_directory_with_a_private_socket() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("node");
    let data = data_dir.to_str().unwrap();
    let mut node = Peerster::run(&["--listen", "127.0.0.1:0", "--data-dir", data]);
    ctl_until("wait", &data_dir, &["status"], WAIT, |_| true);
    let socket = data_dir.join("control.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");
    let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "data directory mode {mode:o}");

    let second = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["run", "--listen", "127.0.0.1:0", "--data-dir", data])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("peerster: another node runs on {data}")),
        "{stderr}"
    );
    // The first node still answers.
    ctl(&data_dir, &["status"]);
    node.assert_running();

    // A clean stop removes the socket; ctl then says no node runs there.
    let status = node.signal_and_wait("-INT");
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the socket outlived the node");
    let output = ctl_output(&data_dir, &["status"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("no node runs on {data}")),
        "{stderr}"
    );

    // A socket left by a node that is gone is replaced.
    let stale = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    drop(stale);
    let mut again = Peerster::run(&["--listen", "127.0.0.1:0", "--data-dir", data]);
    ctl_until("wait", &data_dir, &["status"], WAIT, |_| true);
    again.assert_running();
}
