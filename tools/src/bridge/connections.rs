//! The open sockets, by connection id: what the Management API reaches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::UnboundedSender;

use super::websocket_events::Peer;

/// What a socket's task is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Send(String),
    Close,
}

struct Entry {
    peer: Peer,
    last_active_at: DateTime<Utc>,
    commands: UnboundedSender<Command>,
}

/// What `GET /@connections/{id}` tells.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub peer: Peer,
    pub last_active_at: DateTime<Utc>,
}

#[derive(Clone, Default)]
pub struct Connections(Arc<Mutex<HashMap<String, Entry>>>);

impl Connections {
    pub fn add(&self, peer: Peer, commands: UnboundedSender<Command>) {
        let entry = Entry { last_active_at: peer.connected_at, peer, commands };
        self.lock().insert(entry.peer.connection_id.clone(), entry);
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn touch(&self, id: &str) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.last_active_at = Utc::now();
        }
    }

    /// Hands `command` to the socket; false when there is none (gone).
    pub fn command(&self, id: &str, command: Command) -> bool {
        let mut connections = self.lock();
        let Some(entry) = connections.get(id) else { return false };
        let sent = entry.commands.send(command.clone()).is_ok();
        // A closed socket is gone for the API at once, as on AWS, even
        // before its task has run $disconnect.
        if command == Command::Close || !sent {
            connections.remove(id);
        }
        sent
    }

    pub fn status(&self, id: &str) -> Option<Status> {
        self.lock().get(id).map(|entry| Status { peer: entry.peer.clone(), last_active_at: entry.last_active_at })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.0.lock().expect("connections lock")
    }
}
