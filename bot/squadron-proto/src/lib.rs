//! The wire protocol between the control plane and its agents, over one WebSocket the agent
//! opens to `<server>/v1/agent/connect` with `Authorization: Bearer <token>`.
//!
//! One serde enum per direction, as JSON text frames: [`AgentMessage`] from agent to
//! server, [`ServerMessage`] from server to agent. Frames are bounded by [`MAX_FRAME`] on
//! both sides, checked before they are parsed.
//!
//! Delivery of [`ServerMessage::Run`] is at most once: the agent journals a request id
//! before it runs it and never runs an id twice; a request whose result did not arrive
//! before its connection dropped is reported `lost` by the server, never re-sent.

use serde::{Deserialize, Serialize};
use squadron_core::{Inventory, Invocation, ToolOutput};

/// Bumped on any incompatible change; the server refuses other versions.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest frame either side accepts (a tool's output is capped well below it).
pub const MAX_FRAME: usize = 4 << 20;
/// Seconds between agent heartbeats.
pub const HEARTBEAT_SECS: u64 = 20;
/// Heartbeats a node may miss before it is shown offline.
pub const MISSED_HEARTBEATS: u64 = 3;
/// Path of the agent gateway on the server's HTTP port.
pub const CONNECT_PATH: &str = "/v1/agent/connect";

/// A request's id, unique per control plane.
pub type RequestId = String;

/// Agent to server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// First frame after the upgrade.
    Hello {
        protocol: u32,
        node_id: String,
        version: String,
        host: String,
        /// The squads the agent's local policy serves (its ceiling).
        squads: Vec<String>,
        /// Whether the agent's policy allows write tools at all.
        allow_write: bool,
        inventory: Inventory,
    },
    Heartbeat {
        seq: u64,
    },
    /// The result of a run, or of a refusal (status `denied`).
    Result {
        id: RequestId,
        output: ToolOutput,
    },
}

/// Server to agent.
// `Run` is much larger than the other variants; frames are few and short-lived, so boxing
// it would only add an allocation per request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        node: String,
        heartbeat_secs: u64,
    },
    HeartbeatAck {
        seq: u64,
    },
    /// Run one invocation of a squad's tool; the agent validates it again first.
    Run {
        id: RequestId,
        squad: String,
        invocation: Invocation,
    },
    /// The server closes the connection (node revoked, protocol mismatch, shutdown).
    Close {
        reason: String,
    },
}

/// Why a frame was refused.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {0} bytes is larger than the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
    #[error("malformed frame: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// Encodes a message as a frame.
pub fn encode<T: Serialize>(message: &T) -> Result<String, FrameError> {
    let text = serde_json::to_string(message)?;
    if text.len() > MAX_FRAME {
        return Err(FrameError::TooLarge(text.len()));
    }
    Ok(text)
}

/// Decodes a frame, refusing oversized ones before parsing.
pub fn decode<'a, T: Deserialize<'a>>(frame: &'a str) -> Result<T, FrameError> {
    if frame.len() > MAX_FRAME {
        return Err(FrameError::TooLarge(frame.len()));
    }
    Ok(serde_json::from_str(frame)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let hello = AgentMessage::Hello {
            protocol: PROTOCOL_VERSION,
            node_id: "node_1".into(),
            version: "0.1.0".into(),
            host: "web-1".into(),
            squads: vec!["k8s".into()],
            allow_write: false,
            inventory: Inventory::default(),
        };
        let frame = encode(&hello).expect("encode");
        assert!(frame.contains(r#""type":"hello""#));
        assert_eq!(decode::<AgentMessage>(&frame).expect("decode"), hello);
    }

    #[test]
    fn oversized_and_malformed_frames_are_refused() {
        let big = "x".repeat(MAX_FRAME + 1);
        assert!(matches!(
            decode::<AgentMessage>(&big),
            Err(FrameError::TooLarge(_))
        ));
        assert!(matches!(
            decode::<AgentMessage>("{\"type\":\"nope\"}"),
            Err(FrameError::Malformed(_))
        ));
    }
}
