//! The story `peerster demo` tells, one function per chapter, each waiting for what it shows
//! to happen (at most [`STEP`]) and telling it.

use std::io::Write;
use std::time::{Duration, Instant};

use peerster_core::ids::MemberId;
use peerster_core::wire::vote::ProposalId;
use peerster_core::{AnonOptions, CallOptions, Event, VoteOutcome};

use super::cast::{Cast, seen};
use super::eavesdrop::{TAP_CAPACITY, Wiretap, replay};
use super::{DemoError, Narrator, voice};
use crate::display::short;
use crate::error::CommandFailure;

/// How long any one step may take.
const STEP: Duration = Duration::from_secs(15);

/// How long the call may take, from the first ring to its end on both sides.
const CALL: Duration = Duration::from_secs(20);

/// How long the cluster frames the others send after the post are still collected.
const SETTLE: Duration = Duration::from_millis(300);

/// Lowest correlation of what the callee heard with what the caller said that counts as
/// the caller's voice (unrelated audio scores near 0; the codec and the network keep it above
/// 0.8 on loopback).
const MIN_CORRELATION: f64 = 0.5;

/// Tells the whole story with `nodes` nodes.
pub(super) fn tell<W: Write>(nodes: usize, n: &mut Narrator<W>) -> Result<(), DemoError> {
    n.say(&format!(
        "peerster demo: {nodes} nodes on loopback UDP, each a real node (own socket, event loop, \
         thread and data directory) in this process"
    ));
    let mut cast = Cast::start(nodes)?;
    let who: Vec<String> = (cast.actors.iter())
        .map(|a| format!("{} {} {}", a.name, a.id, a.addr))
        .collect();
    n.step("start", &format!("{nodes} nodes: {}", who.join(", ")));
    found(&mut cast, n)?;
    for joiner in 1..nodes {
        join(&mut cast, n, joiner)?;
    }
    post(&mut cast, n, 1)?;
    whisper(&mut cast, n, 2, 1)?;
    call(&mut cast, n, 0, 2)?;
    let expelled = nodes - 1;
    let removed = expel(&mut cast, n, 1, expelled)?;
    rollout(&mut cast, n, expelled, removed)?;
    locked_out(&mut cast, n, 0, expelled)?;
    drop(cast);
    let took = n.elapsed();
    n.step(
        "done",
        &format!(
            "every step happened in {took:.1} s; the nodes stopped and their data directories \
             are removed"
        ),
    );
    Ok(())
}

/// Alice founds the cluster.
fn found<W: Write>(cast: &mut Cast, n: &mut Narrator<W>) -> Result<(), DemoError> {
    let (cluster, epoch) = cast
        .with(0, |runtime| {
            let cluster = runtime.create_cluster(None)?;
            let epoch = runtime.node().cluster().map(|c| c.epoch.0);
            Ok((cluster, epoch.unwrap_or_default()))
        })?
        .map_err(|e| refused("found", cast, 0, CommandFailure::CreateCluster(e)))?;
    let founder = cast.actors[0].name;
    n.step(
        "found",
        &format!("{founder} founds cluster {cluster} (epoch {epoch}, 1 member)"),
    );
    Ok(())
}

/// Node `joiner` asks the founder to join; every member votes yes; it is in.
fn join<W: Write>(cast: &mut Cast, n: &mut Narrator<W>, joiner: usize) -> Result<(), DemoError> {
    let started = Instant::now();
    let (contact, id, name) = (
        cast.actors[0].addr,
        cast.actors[joiner].id,
        cast.actors[joiner].name,
    );
    cast.with(joiner, move |runtime| runtime.join(contact))?;
    let members: Vec<usize> = (0..joiner).collect();
    let proposal = cast.until(&format!("the members see {name}'s join"), STEP, |cast| {
        same_vote(cast, &members, |e| match e {
            Event::VoteOpened {
                proposal, subject, ..
            } if *subject == id => Some(*proposal),
            _ => None,
        })
    })?;
    let ballots = vote_all(cast, "join", &members, proposal, |_| true)?;
    let outcome = closed(cast, 0, proposal, &format!("the vote on {name}'s join"))?;
    if outcome != VoteOutcome::Accepted {
        return Err(DemoError::Outcome {
            step: format!("join of {name}"),
            outcome,
        });
    }
    let everyone: Vec<usize> = (0..=joiner).collect();
    let epoch = settled(cast, &format!("{name} is in"), &everyone, &[])?;
    n.step(
        "join",
        &format!(
            "{name} asks {} to join; vote {}: {ballots} -> accepted; {name} is in \
             (epoch {epoch}, {} members, {:.1} s)",
            cast.actors[0].name,
            short(&proposal.0),
            joiner + 1,
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

/// Node `poster` posts; every other member reads it.
fn post<W: Write>(cast: &mut Cast, n: &mut Narrator<W>, poster: usize) -> Result<(), DemoError> {
    let name = cast.actors[poster].name;
    let text = format!("Hello everyone, {name} here!");
    let others = all_but(cast, &[poster]);
    let took = post_read_by(cast, "post", poster, &text, &others)?;
    n.step(
        "post",
        &format!(
            "{name} posts \"{text}\": read by {} ({} of {}) in {} ms",
            names(cast, &others),
            others.len(),
            others.len(),
            took.as_millis()
        ),
    );
    Ok(())
}

/// Node `sender` sends `recipient` an anonymous message, which it answers: each is read by
/// its recipient only.
fn whisper<W: Write>(
    cast: &mut Cast,
    n: &mut Narrator<W>,
    sender: usize,
    recipient: usize,
) -> Result<(), DemoError> {
    let (from, to) = (cast.actors[sender].name, cast.actors[recipient].name);
    let to_id = cast.actors[recipient].id;
    let others = all_but(cast, &[sender, recipient]);
    let before = stats_of(cast, &others)?;
    let text = "Can we talk in private? Library, noon.".to_string();
    let sent = text.clone();
    let thread = cast
        .with(sender, move |runtime| {
            runtime.send_anonymous(to_id, &sent, AnonOptions::default())
        })?
        .map_err(|e| refused("anon", cast, sender, CommandFailure::Anon(e)))?
        .thread;
    let signer = cast.until(&format!("{to} reads the anonymous message"), STEP, |cast| {
        anon_read(&cast.actors[recipient].log, &thread, &text)
    })?;
    n.step(
        "anon",
        &format!("{from} sends {to} an anonymous message: \"{text}\""),
    );
    n.detail(&format!(
        "{to} reads it in thread {}, from: {}",
        short(&thread),
        signer.map_or(
            "anonymous (unsigned: nobody can tell who sent it)".into(),
            |id| { cast.name_of(id) }
        )
    ));

    let reply = "Noon works. See you there.".to_string();
    let sent = reply.clone();
    cast.with(recipient, move |runtime| {
        runtime.reply_anonymous(thread, &sent, AnonOptions::default())
    })?
    .map_err(|e| refused("reply", cast, recipient, CommandFailure::Reply(e)))?;
    cast.until(&format!("{from} reads the reply"), STEP, |cast| {
        anon_read(&cast.actors[sender].log, &thread, &reply).map(|_| ())
    })?;
    let after = stats_of(cast, &others)?;
    let tried: u64 = (before.iter().zip(&after))
        .map(|(b, a)| a.anon_trial_decryptions - b.anon_trial_decryptions)
        .sum();
    let opened: u64 = (before.iter().zip(&after))
        .map(|(b, a)| a.anon_received - b.anon_received)
        .sum();
    let leaked = (others.iter()).any(|&at| {
        seen(
            &cast.actors[at].log,
            |e| matches!(e, Event::AnonMessage { thread: t, .. } if *t == thread),
        )
    });
    if opened > 0 || leaked {
        return Err(DemoError::Leaked(format!(
            "{} opened an anonymous message of thread {}",
            names(cast, &others),
            short(&thread)
        )));
    }
    n.step(
        "reply",
        &format!(
            "{to} replies in thread {}: \"{reply}\"; {from} reads it",
            short(&thread)
        ),
    );
    n.detail(&format!(
        "only they could read the two: {} made {tried} trial decryptions and opened none",
        names(cast, &others)
    ));
    Ok(())
}

/// Node `caller` calls node `callee` with synthesized voice; the callee answers; the call
/// ends on its own one second after the caller's voice ran out.
fn call<W: Write>(
    cast: &mut Cast,
    n: &mut Narrator<W>,
    caller: usize,
    callee: usize,
) -> Result<(), DemoError> {
    let (from, to, to_id) = (
        cast.actors[caller].name,
        cast.actors[callee].name,
        cast.actors[callee].id,
    );
    let (says, answers) = voice::prepare(cast.dir())?;
    let ends = [caller, callee];
    let before = stats_of(cast, &ends)?;
    let started = Instant::now();
    let files = says.clone();
    let call = cast
        .with(caller, move |runtime| {
            runtime.call(to_id, CallOptions::default(), Some(&files))
        })?
        .map_err(|failure| refused("call", cast, caller, failure))?;
    cast.until(&format!("{to}'s phone rings"), STEP, |cast| {
        seen(
            &cast.actors[callee].log,
            |e| matches!(e, Event::IncomingCall { call: c, .. } if *c == call),
        )
        .then_some(())
    })?;
    let files = answers.clone();
    cast.with(callee, move |runtime| {
        runtime.answer_call(call, Some(&files))
    })?
    .map_err(|failure| refused("call", cast, callee, failure))?;
    cast.until("the call connects", STEP, |cast| {
        ends.iter()
            .all(|&at| {
                seen(
                    &cast.actors[at].log,
                    |e| matches!(e, Event::CallConnected { call: c } if *c == call),
                )
            })
            .then_some(())
    })?;
    let connected = started.elapsed();
    cast.until("the call ends", CALL, |cast| {
        ends.iter()
            .all(|&at| {
                seen(
                    &cast.actors[at].log,
                    |e| matches!(e, Event::CallEnded { call: c, .. } if *c == call),
                )
            })
            .then_some(())
    })?;
    let lasted = started.elapsed();
    let after = stats_of(cast, &ends)?;
    let frames = |at: usize| {
        (
            after[at].voice_frames_sent - before[at].voice_frames_sent,
            after[at].voice_frames_received - before[at].voice_frames_received,
        )
    };
    let ((caller_sent, caller_received), (callee_sent, callee_received)) = (frames(0), frames(1));
    let heard = voice::compare(&says.input, &answers.output)?;
    if callee_received == 0 || heard.correlation < MIN_CORRELATION {
        return Err(DemoError::NoVoice(format!(
            "{to} received {callee_received} voice frames; what it heard matches what {from} \
             said only at correlation {:.2}",
            heard.correlation
        )));
    }
    n.step(
        "call",
        &format!(
            "{from} calls {to} (anonymously), {to} answers: connected in {} ms",
            connected.as_millis()
        ),
    );
    n.detail(&format!(
        "{from} says {} s of synthesized voice: {from} sent {caller_sent} voice frames, {to} \
         received {callee_received}; {to} sent {callee_sent}, {from} received {caller_received}",
        voice::CALLER_SECONDS
    ));
    n.detail(&format!(
        "{to} heard {:.1} s at {:.0} dBFS, matching what {from} said at correlation {:.2}, \
         {:.0} ms late; the call ended by itself after {:.1} s",
        heard.seconds,
        heard.dbfs,
        heard.correlation,
        heard.lag_ms,
        lasted.as_secs_f64()
    ));
    Ok(())
}

/// Node `proposer` proposes to expel node `expelled`; the others vote yes, the expelled
/// member no. Returns the expelled member's id once the vote is accepted.
fn expel<W: Write>(
    cast: &mut Cast,
    n: &mut Narrator<W>,
    proposer: usize,
    expelled: usize,
) -> Result<MemberId, DemoError> {
    let (name, id) = (cast.actors[expelled].name, cast.actors[expelled].id);
    let proposal = cast
        .with(proposer, move |runtime| runtime.expel(id))?
        .map_err(|e| refused("expel", cast, proposer, CommandFailure::Expel(e)))?;
    let everyone: Vec<usize> = (0..cast.actors.len()).collect();
    cast.until(
        &format!("the members see the vote on {name}"),
        STEP,
        |cast| {
            same_vote(cast, &everyone, |e| match e {
                Event::VoteOpened { proposal: p, .. } if *p == proposal => Some(*p),
                _ => None,
            })
        },
    )?;
    let ballots = vote_all(cast, "expel", &everyone, proposal, |at| at != expelled)?;
    let outcome = closed(cast, proposer, proposal, &format!("the vote on {name}"))?;
    if outcome != VoteOutcome::Accepted {
        return Err(DemoError::Outcome {
            step: format!("expulsion of {name}"),
            outcome,
        });
    }
    n.step(
        "expel",
        &format!(
            "{} proposes to expel {name}; vote {}: {ballots} -> accepted",
            cast.actors[proposer].name,
            short(&proposal.0)
        ),
    );
    Ok(id)
}

/// The remaining members roll out a new key without the expelled member.
fn rollout<W: Write>(
    cast: &mut Cast,
    n: &mut Narrator<W>,
    expelled: usize,
    removed: MemberId,
) -> Result<(), DemoError> {
    let name = cast.actors[expelled].name;
    let remaining = all_but(cast, &[expelled]);
    let epoch = settled(cast, "the key rollout", &remaining, &[removed])?;
    // The expelled member learns it from the rollout, which it cannot open beyond that.
    let told = cast
        .until(
            "the expelled member learns it",
            Duration::from_secs(2),
            |cast| {
                seen(&cast.actors[expelled].log, |e| {
                    matches!(e, Event::RemovedFromCluster { .. })
                })
                .then_some(())
            },
        )
        .is_ok();
    n.step(
        "rollout",
        &format!(
            "new cluster key for epoch {epoch}, sealed to {} only; {name} {}",
            names(cast, &remaining),
            if told {
                "sees it is removed from the cluster"
            } else {
                "is left with the old key"
            }
        ),
    );
    Ok(())
}

/// Node `poster` posts after the rollout; the expelled member, handed every cluster frame
/// sent meanwhile, decrypts none.
fn locked_out<W: Write>(
    cast: &mut Cast,
    n: &mut Narrator<W>,
    poster: usize,
    expelled: usize,
) -> Result<(), DemoError> {
    let (name, author) = (cast.actors[poster].name, cast.actors[poster].id);
    let (out, out_addr) = (cast.actors[expelled].name, cast.actors[expelled].addr);
    let remaining = all_but(cast, &[expelled]);
    let mut taps = Vec::new();
    for &at in &remaining {
        taps.push(cast.with(at, |runtime| runtime.tap(TAP_CAPACITY))?);
    }
    let wiretap = Wiretap::new(taps);
    let text = format!("{out} cannot read this.");
    let readers = all_but(cast, &[poster, expelled]);
    post_read_by(cast, "locked out", poster, &text, &readers)?;
    std::thread::sleep(SETTLE);
    let frames = wiretap.cluster_frames();
    let before = cast.stats(expelled)?;
    replay(&frames, out_addr).map_err(DemoError::Files)?;
    let failed_before = before.dropped.undecryptable;
    let count = frames.len() as u64;
    cast.until_state(
        &format!("{out} tries the frames"),
        STEP,
        expelled,
        move |runtime| runtime.node().stats().dropped.undecryptable >= failed_before + count,
    )?;
    let after = cast.stats(expelled)?;
    let failed = after.dropped.undecryptable - failed_before;
    if after.posts_delivered != before.posts_delivered
        || read_post(&cast.actors[expelled].log, author, &text)
    {
        return Err(DemoError::Leaked(format!("{out} read the post")));
    }
    n.step(
        "locked-out",
        &format!("{name} posts \"{text}\": read by {}", names(cast, &readers)),
    );
    n.detail(&format!(
        "{out}, handed the {count} cluster frames the members sent since the rollout (copied \
         off the wire, the post among them), failed to decrypt {failed} of them and read \
         nothing"
    ));
    Ok(())
}

/// Node `poster` posts `text`; waits until every node of `readers` read it; how long that
/// took.
fn post_read_by(
    cast: &mut Cast,
    step: &'static str,
    poster: usize,
    text: &str,
    readers: &[usize],
) -> Result<Duration, DemoError> {
    let started = Instant::now();
    let (author, sent) = (cast.actors[poster].id, text.to_string());
    cast.with(poster, move |runtime| runtime.post(&sent))?
        .map_err(|e| refused(step, cast, poster, CommandFailure::Post(e)))?;
    cast.until(
        &format!("{step}: the post reaches its readers"),
        STEP,
        |cast| {
            (readers.iter())
                .all(|&at| read_post(&cast.actors[at].log, author, text))
                .then_some(())
        },
    )?;
    Ok(started.elapsed())
}

/// Each member of `voters` that has not voted yet on `proposal` votes as `yes` says for it;
/// the ballots, as `alice yes, bob no`.
fn vote_all(
    cast: &Cast,
    step: &'static str,
    voters: &[usize],
    proposal: ProposalId,
    yes: impl Fn(usize) -> bool,
) -> Result<String, DemoError> {
    let mut ballots = Vec::new();
    for &at in voters {
        let ballot = yes(at);
        let cast_already = cast.with(at, move |runtime| {
            let mine = (runtime.votes().into_iter())
                .find(|vote| vote.id == proposal)
                .and_then(|vote| vote.my_vote);
            match mine {
                Some(yes) => Ok(yes),
                None => runtime.vote(proposal, ballot).map(|()| ballot),
            }
        })?;
        let ballot = cast_already.map_err(|e| refused(step, cast, at, CommandFailure::Vote(e)))?;
        let word = if ballot { "yes" } else { "no" };
        ballots.push(format!("{} {word}", cast.actors[at].name));
    }
    Ok(ballots.join(", "))
}

/// Waits until node `at` sees the vote `proposal` closed; its outcome.
fn closed(
    cast: &mut Cast,
    at: usize,
    proposal: ProposalId,
    what: &str,
) -> Result<VoteOutcome, DemoError> {
    cast.until(&format!("{what} closes"), STEP, |cast| {
        cast.actors[at].log.iter().find_map(|e| match e {
            Event::VoteClosed {
                proposal: p,
                outcome,
                ..
            } if *p == proposal => Some(*outcome),
            _ => None,
        })
    })
}

/// Waits until every node of `members` is in the same epoch of a cluster of exactly them,
/// none of `gone` among them; that epoch.
fn settled(
    cast: &mut Cast,
    step: &str,
    members: &[usize],
    gone: &[MemberId],
) -> Result<u64, DemoError> {
    let mut ids: Vec<MemberId> = members.iter().map(|&at| cast.actors[at].id).collect();
    ids.sort();
    let mut epochs = Vec::new();
    for &at in members {
        let (ids, gone) = (ids.clone(), gone.to_vec());
        cast.until_state(step, STEP, at, move |runtime| {
            runtime.node().cluster().is_some_and(|cluster| {
                let mut now: Vec<MemberId> = cluster.members.iter().map(|m| m.id).collect();
                now.sort();
                now == ids && gone.iter().all(|g| !now.contains(g))
            })
        })?;
        let epoch = cast.with(at, |runtime| runtime.node().cluster().map(|c| c.epoch.0))?;
        epochs.push(epoch.unwrap_or_default());
    }
    Ok(epochs.into_iter().max().unwrap_or_default())
}

/// The proposal every node of `members` found in its log with `find`, once all found the
/// same one.
fn same_vote(
    cast: &Cast,
    members: &[usize],
    find: impl Fn(&Event) -> Option<ProposalId>,
) -> Option<ProposalId> {
    let mut found = members
        .iter()
        .map(|&at| cast.actors[at].log.iter().rev().find_map(&find));
    let first = found.next()??;
    found.all(|p| p == Some(first)).then_some(first)
}

/// Whether `log` holds the post `text` by `author`.
fn read_post(log: &[Event], author: MemberId, text: &str) -> bool {
    seen(
        log,
        |e| matches!(e, Event::Post { author: a, text: t, .. } if *a == author && t == text),
    )
}

/// The signer (if any) of the anonymous message `text` in `thread`, if `log` holds it.
fn anon_read(log: &[Event], thread: &[u8; 16], text: &str) -> Option<Option<MemberId>> {
    log.iter().find_map(|e| match e {
        Event::AnonMessage {
            thread: t,
            text: m,
            from,
            ..
        } if t == thread && m == text => Some(*from),
        _ => None,
    })
}

/// The nodes other than `except`.
fn all_but(cast: &Cast, except: &[usize]) -> Vec<usize> {
    (0..cast.actors.len())
        .filter(|at| !except.contains(at))
        .collect()
}

/// The names of `nodes`, as `alice, bob, carol`.
fn names(cast: &Cast, nodes: &[usize]) -> String {
    (nodes.iter())
        .map(|&at| cast.actors[at].name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The counters of `nodes` now.
fn stats_of(cast: &Cast, nodes: &[usize]) -> Result<Vec<peerster_core::Stats>, DemoError> {
    nodes.iter().map(|&at| cast.stats(at)).collect()
}

/// The error for node `at` refusing a command of `step`.
fn refused(step: &'static str, cast: &Cast, at: usize, failure: CommandFailure) -> DemoError {
    DemoError::Refused {
        step,
        name: cast.actors[at].name,
        failure,
    }
}
