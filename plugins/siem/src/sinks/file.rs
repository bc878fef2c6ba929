//! The `file` sink: records appended to a local file, one a line, for a log shipper
//! (Vector, Filebeat, Elastic Agent) to pick up. A batch is acknowledged once written and
//! `fsync`ed; the file is reopened (and recreated) after an error, so rotation by rename
//! is followed at the next error or restart.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt;

use super::record::Record;
use super::{Failure, SinkError};

/// Appends records to one file.
#[derive(Debug)]
pub(crate) struct FileSender {
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl FileSender {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, file: None }
    }

    pub(crate) async fn send(&mut self, records: &[Record]) -> Result<(), Failure> {
        self.write(records).await.map_err(|e| {
            self.file = None;
            Failure::retry(
                0,
                SinkError::File {
                    path: self.path.display().to_string(),
                    source: e,
                },
            )
        })
    }

    async fn write(&mut self, records: &[Record]) -> std::io::Result<()> {
        if self.file.is_none() {
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await?;
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("the file is not open"));
        };
        let mut buf = String::new();
        for r in records {
            buf.push_str(&r.text);
            buf.push('\n');
        }
        file.write_all(buf.as_bytes()).await?;
        file.flush().await?;
        file.sync_data().await
    }

    pub(crate) fn connected(&self) -> bool {
        self.file.is_some()
    }
}
