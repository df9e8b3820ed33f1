//! Admission: what one client may hold of a node at once, enforcing
//! `Limits`. Connections (per node, per identity), push streams (per
//! connection, per identity), memory for frames being read and decoded
//! (per node, per identity) and decode turns (per connection, per
//! identity). Each grant is a guard that gives back what it holds when it
//! is dropped; a refusal is typed, and the caller answers it
//! (`rate_limited`, or a connection closed with `CLOSE_BUSY`) and counts
//! it as an `over_limit` security event.

use super::limits::Limits;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// Frame memory is counted in KiB, so one permit covers a KiB.
const KIB: usize = 1024;

/// Why admission refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this node holds as many connections as it allows ({0})")]
    Connections(usize),
    #[error("this identity holds as many connections on this node as it may ({0})")]
    IdentityConnections(usize),
    #[error("this connection holds as many subscriptions as it may ({0})")]
    ConnectionSubscriptions(usize),
    #[error("this identity holds as many subscriptions on this node as it may ({0})")]
    IdentitySubscriptions(usize),
    #[error("frames being read on this node take all the memory they may ({0} bytes)")]
    Memory(usize),
    #[error("this identity's frames being read take all the memory they may ({0} bytes)")]
    IdentityMemory(usize),
    #[error("no turn to decode within the deadline")]
    Decode,
}

/// One identity's share of the node.
struct Share {
    connections: Arc<Semaphore>,
    subscriptions: Arc<Semaphore>,
    memory: Arc<Semaphore>,
    decodes: Arc<Semaphore>,
}

/// The node's bookkeeping of what every client holds.
pub struct Admission {
    limits: Limits,
    connections: Arc<Semaphore>,
    memory: Arc<Semaphore>,
    shares: Mutex<HashMap<String, Weak<Share>>>,
}

/// Takes one permit or says which bound refused.
fn take(s: &Arc<Semaphore>, n: usize, refusal: Refusal) -> Result<OwnedSemaphorePermit, Refusal> {
    let n = u32::try_from(n).map_err(|_| refusal)?;
    s.clone().try_acquire_many_owned(n).map_err(|e| match e {
        TryAcquireError::NoPermits | TryAcquireError::Closed => refusal,
    })
}

impl Admission {
    pub fn new(limits: Limits) -> Arc<Admission> {
        Arc::new(Admission {
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            memory: Arc::new(Semaphore::new(limits.frame_memory.div_ceil(KIB))),
            shares: Mutex::default(),
            limits,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A connection slot on this node, before anyone is known (checked
    /// before the handshake).
    pub fn connection(&self) -> Result<NodeSlot, Refusal> {
        let n = self.limits.max_connections;
        let permit = take(&self.connections, 1, Refusal::Connections(n))?;
        Ok(NodeSlot { _permit: permit })
    }

    /// Turns a node slot into `identity`'s connection, within its share.
    pub fn identify(
        self: &Arc<Self>,
        slot: NodeSlot,
        identity: &str,
    ) -> Result<Connection, Refusal> {
        let share = self.share(identity);
        let n = self.limits.max_connections_per_identity;
        let permit = take(&share.connections, 1, Refusal::IdentityConnections(n))?;
        Ok(Connection {
            _slot: slot,
            _permit: permit,
            subscriptions: Arc::new(Semaphore::new(self.limits.max_subscriptions_per_connection)),
            decodes: Arc::new(Semaphore::new(self.limits.decodes_per_connection)),
            share,
            admission: self.clone(),
        })
    }

    fn share(&self, identity: &str) -> Arc<Share> {
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(share) = shares.get(identity).and_then(Weak::upgrade) {
            return share;
        }
        shares.retain(|_, s| s.strong_count() > 0);
        let l = &self.limits;
        let share = Arc::new(Share {
            connections: Arc::new(Semaphore::new(l.max_connections_per_identity)),
            subscriptions: Arc::new(Semaphore::new(l.max_subscriptions_per_identity)),
            memory: Arc::new(Semaphore::new(l.frame_memory_per_identity.div_ceil(KIB))),
            decodes: Arc::new(Semaphore::new(l.decodes_per_identity)),
        });
        shares.insert(identity.to_string(), Arc::downgrade(&share));
        share
    }

    /// Identities holding a connection now.
    #[cfg(test)]
    fn identities(&self) -> usize {
        let shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        shares.values().filter(|s| s.strong_count() > 0).count()
    }
}

/// A connection counted on the node, before its identity is known.
pub struct NodeSlot {
    _permit: OwnedSemaphorePermit,
}

/// One identified connection: what it holds, and the share of its
/// identity it draws on.
pub struct Connection {
    _slot: NodeSlot,
    _permit: OwnedSemaphorePermit,
    subscriptions: Arc<Semaphore>,
    decodes: Arc<Semaphore>,
    share: Arc<Share>,
    admission: Arc<Admission>,
}

/// A grant of two permits (this connection's or node's, and the
/// identity's), given back when dropped.
pub struct Grant {
    _own: OwnedSemaphorePermit,
    _share: OwnedSemaphorePermit,
}

fn grant(own: OwnedSemaphorePermit, share: OwnedSemaphorePermit) -> Grant {
    Grant {
        _own: own,
        _share: share,
    }
}

impl Connection {
    /// A push stream, within this connection's and this identity's caps.
    pub fn subscribe(&self) -> Result<Grant, Refusal> {
        let l = &self.admission.limits;
        let own = take(
            &self.subscriptions,
            1,
            Refusal::ConnectionSubscriptions(l.max_subscriptions_per_connection),
        )?;
        let share = take(
            &self.share.subscriptions,
            1,
            Refusal::IdentitySubscriptions(l.max_subscriptions_per_identity),
        )?;
        Ok(grant(own, share))
    }

    /// Memory for a frame of `bytes` (as sent plus decompressed), within
    /// the node's and this identity's budgets.
    pub fn reserve(&self, bytes: usize) -> Result<Grant, Refusal> {
        let l = &self.admission.limits;
        let kib = bytes.div_ceil(KIB);
        let node = take(&self.admission.memory, kib, Refusal::Memory(l.frame_memory))?;
        let share = take(
            &self.share.memory,
            kib,
            Refusal::IdentityMemory(l.frame_memory_per_identity),
        )?;
        Ok(grant(node, share))
    }

    /// A turn to decode a frame, once this connection and this identity
    /// are below their decoding caps (waits; the caller bounds the wait).
    pub async fn decode_turn(&self) -> Result<Grant, Refusal> {
        let own = self.decodes.clone().acquire_owned().await;
        let share = self.share.decodes.clone().acquire_owned().await;
        match (own, share) {
            (Ok(own), Ok(share)) => Ok(grant(own, share)),
            _ => Err(Refusal::Decode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Arc<Admission> {
        Admission::new(Limits {
            max_connections: 3,
            max_connections_per_identity: 2,
            max_subscriptions_per_connection: 2,
            max_subscriptions_per_identity: 3,
            frame_memory: 8 * KIB,
            frame_memory_per_identity: 5 * KIB,
            ..Limits::default()
        })
    }

    fn connect(a: &Arc<Admission>, who: &str) -> Result<Connection, Refusal> {
        a.identify(a.connection()?, who)
    }

    #[test]
    fn connections_are_capped_per_node_and_per_identity_and_given_back() {
        let a = small();
        let (v1, v2) = (connect(&a, "viewer"), connect(&a, "viewer"));
        assert!(v1.is_ok() && v2.is_ok());
        assert_eq!(
            connect(&a, "viewer").err(),
            Some(Refusal::IdentityConnections(2))
        );
        let other = connect(&a, "agent").expect("another identity");
        assert_eq!(connect(&a, "admin").err(), Some(Refusal::Connections(3)));
        drop(v1);
        assert!(
            connect(&a, "viewer").is_ok(),
            "a closed connection's slot is free"
        );
        drop((v2, other));
        assert_eq!(a.identities(), 0, "no share outlives its connections");
    }

    #[test]
    fn subscriptions_and_memory_are_capped_per_connection_and_identity() {
        let a = small();
        let (c1, c2) = (
            connect(&a, "viewer").unwrap(),
            connect(&a, "viewer").unwrap(),
        );
        let s = [c1.subscribe().unwrap(), c1.subscribe().unwrap()];
        assert_eq!(
            c1.subscribe().err(),
            Some(Refusal::ConnectionSubscriptions(2))
        );
        let s3 = c2.subscribe().unwrap();
        assert_eq!(
            c2.subscribe().err(),
            Some(Refusal::IdentitySubscriptions(3))
        );
        drop(s);
        assert!(c2.subscribe().is_ok());
        drop(s3);

        let m = c1.reserve(4 * KIB).unwrap();
        assert_eq!(
            c2.reserve(2 * KIB).err(),
            Some(Refusal::IdentityMemory(5 * KIB))
        );
        let other = connect(&a, "agent").unwrap();
        assert_eq!(other.reserve(5 * KIB).err(), Some(Refusal::Memory(8 * KIB)));
        drop(m);
        assert!(other.reserve(5 * KIB).is_ok());
    }

    #[tokio::test]
    async fn decode_turns_are_one_per_connection_by_default() {
        let a = small();
        let c = connect(&a, "viewer").unwrap();
        let turn = c.decode_turn().await.unwrap();
        let second = tokio::time::timeout(std::time::Duration::from_millis(50), c.decode_turn());
        assert!(second.await.is_err(), "a second turn waits for the first");
        drop(turn);
        assert!(c.decode_turn().await.is_ok());
    }
}
