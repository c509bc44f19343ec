//! What the status bar says: what a user's request did ([`App::done`]) and the node's events
//! that ask for the user's attention ([`App::event_notice`]): votes, calls, joins, key
//! rollouts, failures.

use serde_json::Value;

use super::snapshot::short;
use super::state::{App, Notice};

impl App {
    /// What the status bar says a user's request `what` (its `cmd`) did, from its reply.
    pub(crate) fn done(&self, what: &str, reply: &Value) -> String {
        let field = |key: &str| reply.get(key).and_then(Value::as_str).unwrap_or("?");
        let id = |key: &str| short(field(key)).to_string();
        match what {
            "post" => "posted".to_string(),
            "send-anon" => format!(
                "anonymous message sent to {} (thread {})",
                self.who(field("to")),
                id("thread")
            ),
            "reply" => format!("reply sent in thread {}", id("thread")),
            "vote" => format!("voted {} on {}", field("choice"), id("proposal")),
            "expel" => format!(
                "expulsion of {} proposed (vote {})",
                self.who(field("member")),
                id("proposal")
            ),
            "call" => format!("calling {} (call {})", self.who(field("to")), id("call")),
            "answer" => format!("call {} answered", id("call")),
            "decline" => format!("call {} declined", id("call")),
            "hangup" => format!("call {} hung up", id("call")),
            "create-cluster" => format!("created cluster {}", field("cluster")),
            "join" => format!("joining through {}…", field("joining")),
            "leave" => format!("left cluster {}", field("cluster")),
            "safety-number" => format!(
                "safety number with {}: {}",
                self.who(field("fingerprint")),
                field("safety_number")
            ),
            _ => format!("{what}: {}", crate::ctl::readable_lines(reply).join(", ")),
        }
    }

    /// What the status bar says about `event`, if it is one the user must notice.
    pub(crate) fn event_notice(&self, event: &Value) -> Option<Notice> {
        let field = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or("?");
        let id = |key: &str| short(field(key)).to_string();
        let number = |key: &str| event.get(key).and_then(Value::as_u64).unwrap_or(0);
        let info = |text: String| Some(Notice { error: false, text });
        let error = |text: String| Some(Notice { error: true, text });
        match event.get("kind").and_then(Value::as_str)? {
            "vote_opened" => info(format!(
                "vote {} opened: {} {}: Tab to Votes, then y or n",
                id("proposal"),
                field("proposal_kind"),
                self.who(field("subject")),
            )),
            "vote_closed" => info(format!("vote {}: {}", id("proposal"), field("outcome"))),
            "incoming_call" => info(format!(
                "incoming call {} from {}: Tab to Call, then a answers, d declines",
                id("call"),
                event
                    .get("from")
                    .and_then(Value::as_str)
                    .map_or_else(|| "anonymous".to_string(), |from| self.who(from)),
            )),
            "call_connected" => info(format!("call {} connected", id("call"))),
            "call_ended" => info(format!(
                "call {} ended: {}",
                id("call"),
                field("reason").replace('_', " ")
            )),
            "joined_cluster" => info(format!(
                "joined cluster {}, epoch {}, {} members",
                field("cluster"),
                number("epoch"),
                number("members")
            )),
            "epoch_changed" => info(format!(
                "key rollout: epoch {}, {} members",
                number("epoch"),
                number("members")
            )),
            "removed_from_cluster" => error(format!("removed from cluster {}", field("cluster"))),
            "left_cluster" => info(format!("left cluster {}", field("cluster"))),
            "join_refused" => error(format!(
                "join refused by {}: {}",
                field("contact"),
                field("reason")
            )),
            "join_failed" => error(format!("join failed: no answer from {}", field("contact"))),
            "anon_failed" => error(format!(
                "anonymous message in thread {} failed: {}",
                id("thread"),
                field("reason")
            )),
            "anonymity_low" => error(format!(
                "warning: only {} members to hide among (below {})",
                number("anonymity_set"),
                number("threshold")
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::tui::link::Incoming;

    #[test]
    fn events_the_user_must_act_on_are_announced() {
        let mut app = App::new(Path::new("/d"));
        app.apply(Incoming::Event(json!({
            "kind": "incoming_call", "call": "1a2b3c4d5e6f", "from": null
        })));
        let text = app.notice.clone().unwrap().text;
        assert!(
            text.contains("incoming call 1a2b3c4d from anonymous"),
            "{text}"
        );
        app.apply(Incoming::Event(json!({
            "kind": "vote_opened", "proposal": "5e6f7a8b99", "proposal_kind": "expel",
            "subject": "0a0b0c0d11", "proposer": "1f2e3d4c22"
        })));
        let text = app.notice.clone().unwrap().text;
        assert!(
            text.contains("vote 5e6f7a8b opened: expel 0a0b0c0d"),
            "{text}"
        );
        app.apply(Incoming::Event(
            json!({"kind": "epoch_changed", "epoch": 4, "members": 3}),
        ));
        assert_eq!(
            app.notice.clone().unwrap().text,
            "key rollout: epoch 4, 3 members"
        );
        app.apply(Incoming::Event(json!({
            "kind": "call_ended", "call": "1a2b3c4d5e6f", "reason": "hung_up_here"
        })));
        assert_eq!(
            app.notice.clone().unwrap().text,
            "call 1a2b3c4d ended: hung up here"
        );
        app.apply(Incoming::Event(
            json!({"kind": "epoch_changed", "epoch": 4, "members": 3}),
        ));
        // Posts show in the chat, not the status bar.
        app.apply(Incoming::Event(json!({"kind": "post", "text": "x"})));
        assert_eq!(
            app.notice.clone().unwrap().text,
            "key rollout: epoch 4, 3 members"
        );
    }
}
