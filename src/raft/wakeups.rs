//! Who to wake when the replica moves: push streams register the targets
//! they watch, and after each apply the state store wakes only the
//! streams of the targets the applied entries touched (every stream when
//! a snapshot replaced the state). A stream that ends drops its `Notify`;
//! the registry forgets it at the next wake or registration.

use arqonbus_core::{Command, Op, State};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Notify;

/// Target name → the streams watching it.
#[derive(Debug, Default)]
pub struct Wakeups {
    by_target: Mutex<HashMap<String, Vec<Weak<Notify>>>>,
}

impl Wakeups {
    /// Registers one stream for `targets`; it is woken (a permit is kept if
    /// it is not waiting) whenever an entry touching one of them applies.
    pub fn watch<'a>(&self, targets: impl IntoIterator<Item = &'a str>) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        let mut map = self.by_target.lock().unwrap_or_else(|p| p.into_inner());
        for target in targets {
            let streams = map.entry(target.to_string()).or_default();
            streams.retain(|w| w.strong_count() > 0);
            streams.push(Arc::downgrade(&notify));
        }
        notify
    }

    /// Wakes the streams of `targets`.
    pub fn wake(&self, targets: &BTreeSet<String>) {
        let mut map = self.by_target.lock().unwrap_or_else(|p| p.into_inner());
        for target in targets {
            if let Some(streams) = map.get_mut(target) {
                streams.retain(|w| match w.upgrade() {
                    Some(n) => {
                        n.notify_one();
                        true
                    }
                    None => false,
                });
                if streams.is_empty() {
                    map.remove(target);
                }
            }
        }
    }

    /// Wakes every stream (the state was replaced wholesale).
    pub fn wake_all(&self) {
        let targets: BTreeSet<String> = {
            let map = self.by_target.lock().unwrap_or_else(|p| p.into_inner());
            map.keys().cloned().collect()
        };
        self.wake(&targets);
    }

    /// Targets some stream watches.
    pub fn watched(&self) -> usize {
        let map = self.by_target.lock().unwrap_or_else(|p| p.into_inner());
        map.len()
    }
}

/// Adds the targets `command` may touch (every command of a batch); a
/// command about a proposal touches the proposal's target, looked up in
/// `state` (an approval starts a rollout: its watchers must wake).
pub fn touched(command: &Command, state: &State, out: &mut BTreeSet<String>) {
    match &command.op {
        Op::Batch(commands) => commands.iter().for_each(|c| touched(c, state, out)),
        Op::Approve { proposal_id, .. }
        | Op::RejectPending { proposal_id, .. }
        | Op::Expire { proposal_id } => {
            if let Some(d) = state.decided.get(proposal_id) {
                out.insert(d.target.clone());
            }
        }
        op if !op.target().is_empty() => {
            out.insert(op.target().to_string());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn woken(n: &Notify) -> bool {
        tokio::time::timeout(Duration::from_millis(50), n.notified())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn only_the_streams_of_touched_targets_are_woken() {
        let w = Wakeups::default();
        let a = w.watch(["svc-a"]);
        let b = w.watch(["svc-b"]);
        let both = w.watch(["svc-a", "svc-b"]);
        w.wake(&BTreeSet::from(["svc-a".to_string()]));
        assert!(woken(&a).await && woken(&both).await);
        assert!(!woken(&b).await, "a stream of another target slept on");
        w.wake_all();
        assert!(woken(&a).await && woken(&b).await && woken(&both).await);
        drop((a, both));
        w.wake(&BTreeSet::from(["svc-a".to_string()]));
        assert_eq!(w.watched(), 1, "ended streams are forgotten");
        drop(b);
    }

    #[test]
    fn a_batch_touches_the_targets_of_its_commands() {
        use arqonbus_core::testing::{cmd, example};
        use arqonbus_core::Role;
        let set = |t: &str| Op::SetConstraints {
            target: t.into(),
            constraints: example(),
        };
        let batch = Op::Batch(vec![
            cmd(Role::Admin, 1, set("a")),
            cmd(Role::Admin, 1, set("b")),
        ]);
        let mut out = BTreeSet::new();
        touched(&cmd(Role::Node, 1, batch), &State::default(), &mut out);
        assert_eq!(out, BTreeSet::from(["a".to_string(), "b".to_string()]));
    }
}
