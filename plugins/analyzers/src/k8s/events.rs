//! Events as `kubectl get events` prints them (`LAST SEEN  TYPE  REASON  OBJECT  MESSAGE`).

use crate::parse::table;

/// One event line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub last_seen: String,
    pub kind: String,
    pub reason: String,
    pub object: String,
    pub message: String,
}

impl Event {
    /// The line as kubectl printed it, for evidence.
    pub fn line(&self) -> String {
        format!(
            "{}  {}  {}  {}",
            self.last_seen, self.kind, self.reason, self.message
        )
    }
}

/// Reads an events table; lines that are not events are skipped.
pub fn parse(text: &str) -> Vec<Event> {
    table(text)
        .into_iter()
        .filter_map(|r| {
            Some(Event {
                last_seen: r.get(&["last seen"]).unwrap_or_default().to_owned(),
                kind: r.value(&["type"])?.to_owned(),
                reason: r.value(&["reason"])?.to_owned(),
                object: r.get(&["object"]).unwrap_or_default().to_owned(),
                message: r.get(&["message"]).unwrap_or_default().to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reasons_and_messages() {
        let text = "LAST SEEN             TYPE      REASON      OBJECT                 MESSAGE
15s (x191 over 42m)   Warning   Failed      pod/invoice-7f-tt4vn   Error: secret \"db\" not found
42m                   Normal    Scheduled   pod/invoice-7f-tt4vn   Successfully assigned billing/invoice-7f-tt4vn to w3
";
        let ev = parse(text);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].reason, "Failed");
        assert_eq!(ev[0].message, "Error: secret \"db\" not found");
        assert_eq!(ev[0].last_seen, "15s (x191 over 42m)");
    }
}
