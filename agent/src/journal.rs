//! The at-most-once journal: every request id is written (and fsynced) before its run
//! starts, and its result after. An id the journal knows is never run again: it is
//! answered from the record, or `lost` when the run started and no result was recorded
//! (the agent died mid-run).
//!
//! The file is JSON lines, append-only, `0600` in the state directory. It keeps the last
//! [`MAX_IDS`] ids; when it grows past twice that it is rewritten with only those, and
//! outputs older than the newest [`KEEP_OUTPUT_BYTES`] are replaced by a note (the id and
//! its status stay, so the id is still never re-run).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use squadron_core::ToolOutput;
use squadron_core::output::RunStatus;

/// Ids remembered.
pub const MAX_IDS: usize = 10_000;
/// Bytes of output kept for answering repeats, newest first.
pub const KEEP_OUTPUT_BYTES: usize = 32 << 20;
/// The journal's file name in the state directory.
pub const FILE_NAME: &str = "journal.jsonl";
/// What a repeated id is told when its run started but never finished.
pub const LOST_REASON: &str = "the agent started this request before but has no result for it (it stopped mid-run); not run again";

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal {path}: {source}")]
    Encode {
        path: PathBuf,
        source: serde_json::Error,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Line {
    Started { id: String },
    Done { id: String, output: ToolOutput },
}

#[derive(Debug, Clone)]
enum Entry {
    Started,
    Done(ToolOutput),
}

/// What the journal says about an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Never seen: the caller owns it until [`Journal::finish`] or [`Journal::release`].
    New,
    /// Seen and finished: answer with this.
    Done(ToolOutput),
    /// Started earlier with no result: answer `lost`.
    Lost,
    /// Running right now in this process: its own result will answer.
    Running,
}

#[derive(Debug)]
struct Inner {
    file: File,
    order: VecDeque<String>,
    entries: HashMap<String, Entry>,
    running: HashSet<String>,
    /// Lines and bytes in the file, to know when to compact it.
    lines: usize,
    bytes: u64,
    /// Bytes of output held in `entries`.
    kept_bytes: usize,
}

/// The journal, shared by every run.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    inner: Mutex<Inner>,
}

impl Journal {
    /// Opens (or creates) the journal in `state_dir`, reading what it holds.
    pub fn open(state_dir: &Path) -> Result<Journal, JournalError> {
        let path = state_dir.join(FILE_NAME);
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        if !state_dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(state_dir)
                .map_err(io)?;
        }
        let mut inner = Inner {
            file: OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)
                .map_err(io)?,
            order: VecDeque::new(),
            entries: HashMap::new(),
            running: HashSet::new(),
            lines: 0,
            bytes: 0,
            kept_bytes: 0,
        };
        if let Ok(existing) = File::open(&path) {
            inner.bytes = existing.metadata().map_or(0, |m| m.len());
            for line in BufReader::new(existing).lines() {
                let line = line.map_err(io)?;
                inner.lines += 1;
                // A torn last line (the agent died mid-write) is skipped.
                let Ok(parsed) = serde_json::from_str::<Line>(&line) else {
                    continue;
                };
                let (id, entry) = match parsed {
                    Line::Started { id } => (id, Entry::Started),
                    Line::Done { id, output } => (id, Entry::Done(output)),
                };
                inner.remember(&id, entry);
            }
        }
        // A torn last line gets its newline, so the next record starts a line of its own.
        if inner.bytes > 0 && !ends_with_newline(&path).map_err(io)? {
            inner.file.write_all(b"\n").map_err(io)?;
            inner.file.sync_data().map_err(io)?;
            inner.bytes += 1;
        }
        Ok(Journal {
            path,
            inner: Mutex::new(inner),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the maps consistent (each update is one
        // insert), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks an id up and, when new, reserves it for the caller.
    pub fn claim(&self, id: &str) -> Claim {
        let mut inner = self.lock();
        if inner.running.contains(id) {
            return Claim::Running;
        }
        match inner.entries.get(id) {
            Some(Entry::Done(output)) => Claim::Done(output.clone()),
            Some(Entry::Started) => Claim::Lost,
            None => {
                inner.running.insert(id.to_owned());
                Claim::New
            }
        }
    }

    /// Gives a claimed id back without recording it (it never started).
    pub fn release(&self, id: &str) {
        self.lock().running.remove(id);
    }

    /// Records, durably, that a claimed id is about to run.
    pub fn start(&self, id: &str) -> Result<(), JournalError> {
        let mut inner = self.lock();
        let line = Line::Started { id: id.to_owned() };
        self.append(&mut inner, &line, true)?;
        inner.remember(id, Entry::Started);
        Ok(())
    }

    /// Records an id's result (a run's, a refusal's, or `lost`) and frees the claim.
    pub fn finish(&self, id: &str, output: &ToolOutput) -> Result<(), JournalError> {
        let mut inner = self.lock();
        inner.running.remove(id);
        inner.remember(id, Entry::Done(output.clone()));
        let line = Line::Done {
            id: id.to_owned(),
            output: output.clone(),
        };
        self.append(&mut inner, &line, false)?;
        if inner.lines > 2 * MAX_IDS || inner.bytes > 2 * KEEP_OUTPUT_BYTES as u64 {
            self.compact(&mut inner)?;
        }
        Ok(())
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn append(&self, inner: &mut Inner, line: &Line, sync: bool) -> Result<(), JournalError> {
        let mut text = serde_json::to_string(line).map_err(|source| JournalError::Encode {
            path: self.path.clone(),
            source,
        })?;
        text.push('\n');
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        inner.file.write_all(text.as_bytes()).map_err(io)?;
        if sync {
            inner.file.sync_data().map_err(io)?;
        }
        inner.lines += 1;
        inner.bytes += text.len() as u64;
        Ok(())
    }

    /// Rewrites the file with the remembered ids only (temp file, fsync, rename).
    fn compact(&self, inner: &mut Inner) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let kept: Vec<Line> = inner
            .order
            .iter()
            .map(|id| match inner.entries.get(id) {
                Some(Entry::Done(output)) => Line::Done {
                    id: id.clone(),
                    output: output.clone(),
                },
                Some(Entry::Started) | None => Line::Started { id: id.clone() },
            })
            .collect();
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        let (mut lines, mut bytes) = (0, 0);
        for line in &kept {
            let mut text = serde_json::to_string(line).map_err(|source| JournalError::Encode {
                path: self.path.clone(),
                source,
            })?;
            text.push('\n');
            file.write_all(text.as_bytes()).map_err(io)?;
            lines += 1;
            bytes += text.len() as u64;
        }
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        inner.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        inner.lines = lines;
        inner.bytes = bytes;
        Ok(())
    }
}

impl Inner {
    /// Adds or updates an id, then keeps the id count and the output bytes in bounds.
    fn remember(&mut self, id: &str, entry: Entry) {
        if let Entry::Done(output) = &entry {
            self.kept_bytes += body_len(output);
        }
        match self.entries.insert(id.to_owned(), entry) {
            None => self.order.push_back(id.to_owned()),
            Some(Entry::Done(old)) => self.kept_bytes -= body_len(&old),
            Some(Entry::Started) => {}
        }
        while self.order.len() > MAX_IDS {
            if let Some(old) = self.order.pop_front()
                && let Some(Entry::Done(output)) = self.entries.remove(&old)
            {
                self.kept_bytes -= body_len(&output);
            }
        }
        // Oldest outputs go first; their ids and statuses stay.
        let mut i = 0;
        while self.kept_bytes > KEEP_OUTPUT_BYTES && i < self.order.len() {
            if let Some(Entry::Done(output)) = self.entries.get_mut(&self.order[i]) {
                let len = body_len(output);
                if len > 0 {
                    self.kept_bytes -= len;
                    output.stdout = String::new();
                    output.stderr = String::new();
                    output.truncated = true;
                    output.stderr.push_str(DROPPED_NOTE);
                    self.kept_bytes += DROPPED_NOTE.len();
                }
            }
            i += 1;
        }
    }
}

fn ends_with_newline(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path)?;
    if file.seek(SeekFrom::End(0))? == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

const DROPPED_NOTE: &str = "(output no longer kept in the agent's journal)";

fn body_len(output: &ToolOutput) -> usize {
    output.stdout.len() + output.stderr.len()
}

/// The answer for an id that started but never finished.
pub fn lost_output() -> ToolOutput {
    ToolOutput::refused(RunStatus::Lost, LOST_REASON)
}
