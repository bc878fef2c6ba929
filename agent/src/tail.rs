//! read_file tools: the last lines of a file, read backwards from its end so a huge log
//! is never loaded whole, and never more than the output cap.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::OFlag;
use squadron_core::ToolOutput;
use squadron_core::output::tail_lines;

use crate::policy::io_reason;

const CHUNK: u64 = 64 * 1024;

/// The last `lines` lines of the file at `path` (already canonical), at most `cap` bytes:
/// when the lines do not fit, the newest `cap` bytes from a line start, and `truncated`.
pub fn read_tail(path: &Path, lines: u64, cap: u64) -> ToolOutput {
    match tail(path, lines, cap) {
        Ok((text, truncated)) => {
            let mut out = ToolOutput::finished(0, text, String::new());
            out.truncated = truncated;
            out
        }
        Err(e) => ToolOutput::finished(
            1,
            String::new(),
            format!("read_file: {}: {}", path.display(), io_reason(&e)),
        ),
    }
}

fn tail(path: &Path, lines: u64, cap: u64) -> std::io::Result<(String, bool)> {
    // O_NOFOLLOW: the path was canonicalised, so a symlink here was swapped in since.
    // O_NONBLOCK: opening a FIFO must not hang the agent.
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let size = meta.len();
    let mut pos = size;
    let mut buf: Vec<u8> = Vec::new();
    let mut newlines: u64 = 0;
    // Read backwards until the buffer holds `lines` full lines (one more newline than
    // that, ignoring a final one), the start of the file, or the cap.
    while pos > 0 {
        if newlines > lines {
            break;
        }
        if buf.len() as u64 > cap {
            break;
        }
        let step = CHUNK.min(pos);
        pos -= step;
        let mut chunk = vec![0u8; usize::try_from(step).unwrap_or(0)];
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut chunk)?;
        let is_last_chunk = buf.is_empty();
        let counted = if is_last_chunk && chunk.last() == Some(&b'\n') {
            &chunk[..chunk.len() - 1]
        } else {
            &chunk[..]
        };
        newlines += counted.iter().filter(|&&b| b == b'\n').count() as u64;
        chunk.extend_from_slice(&buf);
        buf = chunk;
    }
    let text = String::from_utf8_lossy(&buf);
    let mut text = tail_lines(&text, lines);
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let truncated = text.len() > cap;
    if truncated {
        // Keep the newest `cap` bytes, from the start of a line when there is one.
        let mut start = text.len() - cap;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        if let Some(nl) = text[start..].find('\n')
            && start + nl + 1 < text.len()
        {
            start += nl + 1;
        }
        text.drain(..start);
    }
    Ok((text, truncated))
}
