//! Chain verification: recompute every hash in seq order and name the first broken event.

use std::collections::BTreeMap;

use crate::chain::{GENESIS_HASH, canonical_bytes};
use crate::model::{AuditEvent, AuditFilter, StoreError};
use crate::traits::{ChainHasher, Store};

/// Events read per query while verifying.
const PAGE: i64 = 5000;

/// What is wrong at a broken link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// The event's content no longer matches its hash (or a checkpoint), or it was
    /// rewritten and re-hashed so the next event no longer points to it.
    Changed,
    /// Events `first..=last` are missing (before the named event, or at the tail when a
    /// checkpoint is ahead of the head).
    Deleted { first: i64, last: i64 },
    /// The event points to one that comes after it: rows were moved.
    Reordered,
}

impl std::fmt::Display for BreakKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Changed => {
                f.write_str("changed after it was written (its hash no longer matches)")
            }
            Self::Deleted { first, last } if first == last => {
                write!(f, "event {first} was deleted")
            }
            Self::Deleted { first, last } => write!(f, "events {first} to {last} were deleted"),
            Self::Reordered => f.write_str("reordered (it points to an event stored after it)"),
        }
    }
}

/// Why [`verify_chain`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainBreak {
    /// The first broken link; `id` is empty when the event itself is missing.
    #[error(
        "audit chain broken at seq {seq}{}: {what}; restore the trail from an export or a sink",
        event_label(id)
    )]
    Broken {
        seq: i64,
        id: String,
        what: BreakKind,
    },
    #[error("cannot read the audit trail to verify it: {0}")]
    Store(#[from] StoreError),
}

/// ` (event ID)`, or nothing for a missing event.
fn event_label(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!(" (event {id})")
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifySummary {
    /// Events verified.
    pub events: u64,
    /// Seq and hash of the last event (0 and [`GENESIS_HASH`] when empty).
    pub head_seq: i64,
    pub head_hash: String,
}

/// Recomputes every hash in seq order with `hasher`; the first broken event is named.
pub async fn verify_chain(store: &dyn Store, hasher: &dyn ChainHasher) -> Result<(), ChainBreak> {
    verify_chain_summary(store, hasher).await.map(|_| ())
}

/// [`verify_chain`], also saying how much was verified.
pub async fn verify_chain_summary(
    store: &dyn Store,
    hasher: &dyn ChainHasher,
) -> Result<VerifySummary, ChainBreak> {
    let checkpoints: BTreeMap<i64, String> = store
        .list_checkpoints()
        .await?
        .into_iter()
        .map(|c| (c.seq, c.head_hash))
        .collect();
    let mut expected: Option<(i64, String)> = None;
    let mut previous: Option<AuditEvent> = None;
    let mut events = 0u64;
    let mut page = store.list_audit(&page_after(0, PAGE)).await?;
    while let Some(last) = page.last() {
        let cursor = last.seq;
        // Fetch the next page while this one is hashed on every core.
        let next_filter = page_after(cursor, PAGE);
        let (next, intact) = tokio::join!(store.list_audit(&next_filter), async {
            self_consistent(&page, hasher)
        });
        for (e, intact) in std::mem::take(&mut page).into_iter().zip(intact) {
            let (want_seq, want_prev) = match expected.take() {
                Some(x) => x,
                None => start_of_chain(&e, &checkpoints)?,
            };
            if e.seq > want_seq {
                return Err(broken(
                    &e,
                    BreakKind::Deleted {
                        first: want_seq,
                        last: e.seq - 1,
                    },
                ));
            }
            if e.seq < want_seq {
                return Err(broken(&e, BreakKind::Reordered));
            }
            let hash_ok = intact;
            let link_ok = e.prev_hash == want_prev;
            let checkpoint_ok = checkpoints.get(&e.seq).is_none_or(|h| *h == e.hash);
            if !link_ok && points_ahead(store, &e).await? {
                return Err(broken(&e, BreakKind::Reordered));
            }
            if !hash_ok || !checkpoint_ok {
                return Err(broken(&e, BreakKind::Changed));
            }
            if !link_ok {
                // Self-consistent but not linked: the previous event was rewritten and
                // re-hashed (or, for the first one, this event was forged).
                return Err(broken(previous.as_ref().unwrap_or(&e), BreakKind::Changed));
            }
            events += 1;
            expected = Some((e.seq + 1, e.hash.clone()));
            previous = Some(e);
        }
        page = next?;
    }
    let (head_seq, head_hash) = previous.map_or((0, GENESIS_HASH.to_owned()), |e| (e.seq, e.hash));
    if let Some((&seq, _)) = checkpoints.range(head_seq + 1..).next_back() {
        return Err(ChainBreak::Broken {
            seq,
            id: String::new(),
            what: BreakKind::Deleted {
                first: head_seq + 1,
                last: seq,
            },
        });
    }
    Ok(VerifySummary {
        events,
        head_seq,
        head_hash,
    })
}

/// Where the chain must start: genesis at seq 1, else (after a retention cut) the
/// checkpoint just before the first remaining event.
fn start_of_chain(
    first: &AuditEvent,
    checkpoints: &BTreeMap<i64, String>,
) -> Result<(i64, String), ChainBreak> {
    if first.seq <= 1 {
        return Ok((1, GENESIS_HASH.to_owned()));
    }
    match checkpoints.get(&(first.seq - 1)) {
        Some(h) => Ok((first.seq, h.clone())),
        None => Err(broken(
            first,
            BreakKind::Deleted {
                first: 1,
                last: first.seq - 1,
            },
        )),
    }
}

/// Whether `e.prev_hash` is the hash of one of the events stored after it.
async fn points_ahead(store: &dyn Store, e: &AuditEvent) -> Result<bool, StoreError> {
    let later = store.list_audit(&page_after(e.seq, PAGE)).await?;
    Ok(later.iter().any(|l| l.hash == e.prev_hash))
}

/// For each event, whether its hash matches its content and its output matches its
/// SHA-256, computed on every available core.
fn self_consistent(page: &[AuditEvent], hasher: &dyn ChainHasher) -> Vec<bool> {
    let check = |e: &AuditEvent| {
        hasher.hash(&e.prev_hash, &canonical_bytes(e)) == e.hash && output_matches(e)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || page.len() < 256 {
        return page.iter().map(check).collect();
    }
    let chunk = page.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = page
            .chunks(chunk)
            .map(|part| {
                (
                    part.len(),
                    scope.spawn(move || part.iter().map(check).collect::<Vec<bool>>()),
                )
            })
            .collect();
        // A thread that died proves nothing: its events count as broken.
        parts
            .into_iter()
            .flat_map(|(len, h)| h.join().unwrap_or_else(|_| vec![false; len]))
            .collect()
    })
}

/// Whether the stored output still has the SHA-256 recorded with it.
fn output_matches(e: &AuditEvent) -> bool {
    use sha2::{Digest, Sha256};
    match (&e.output, &e.output_sha256) {
        (Some(out), Some(want)) => {
            let got: String = Sha256::digest(out.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            got.eq_ignore_ascii_case(want)
        }
        _ => true,
    }
}

fn page_after(seq: i64, limit: i64) -> AuditFilter {
    AuditFilter {
        since_seq: Some(seq),
        limit: Some(limit),
        ..AuditFilter::default()
    }
}

fn broken(e: &AuditEvent, what: BreakKind) -> ChainBreak {
    ChainBreak::Broken {
        seq: e.seq,
        id: e.id.clone(),
        what,
    }
}
