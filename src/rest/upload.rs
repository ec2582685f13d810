//! Large uploads spooled to disk: the body goes to an unlinked temporary file as it
//! arrives (hashed on the way), so a 500 MiB export costs a file, not memory, and a
//! crash leaves nothing behind (the file has no name).

use super::ApiError;
use axum::body::Body;
use futures_util::StreamExt;

/// A received upload: its bytes on disk, their length and SHA-256.
pub struct Upload {
    file: std::fs::File,
    pub len: u64,
    pub sha256: [u8; 32],
}

/// Spooled uploads at once, process-wide: each holds up to `rest.upload_limit_bytes` of
/// temporary disk and its parsed rows in memory.
const AT_ONCE: usize = 2;
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(AT_ONCE);

/// The right to spool an upload, held until the import is done with it.
pub type Slot = tokio::sync::SemaphorePermit<'static>;

/// A slot, or 503 at once when [`AT_ONCE`] uploads are in progress.
pub fn slot() -> Result<Slot, ApiError> {
    SLOTS.try_acquire().map_err(|_| {
        ApiError::Unavailable(format!(
            "già {AT_ONCE} importazioni di file in corso: riprovare tra poco"
        ))
    })
}

impl Upload {
    /// Reads `body` to a temporary file, refusing (413) past `limit` bytes.
    pub async fn receive(body: Body, limit: u64) -> Result<Upload, ApiError> {
        let io = |e: std::io::Error| {
            ApiError::Internal(anyhow::Error::new(e).context("spooling upload"))
        };
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(|e| ApiError::Internal(e.into()))?
            .map_err(io)?;
        let mut file = tokio::fs::File::from_std(file);
        let mut hash = crate::digest::Sha256::default();
        let mut len = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::Validation(format!("corpo interrotto: {e}")))?;
            len += chunk.len() as u64;
            if len > limit {
                return Err(ApiError::TooLarge(format!(
                    "file oltre il limite di {limit} byte (rest.upload_limit_bytes)"
                )));
            }
            hash.update(&chunk);
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(io)?;
        }
        // tokio's write_all returns before its blocking write is done: flush reports a
        // failed last write (a full disk) instead of parsing a file cut short.
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(io)?;
        Ok(Upload {
            file: file.into_std().await,
            len,
            sha256: hash.finish(),
        })
    }

    /// Lower-case hex of the SHA-256, as import jobs record it.
    pub fn sha256_hex(&self) -> String {
        crate::digest::hex(&self.sha256)
    }

    /// A buffered reader from the first byte (blocking: use it off the async workers).
    /// Readers are independent: each keeps its own position.
    pub fn reader(&self) -> std::io::Result<std::io::BufReader<Lettore>> {
        Ok(std::io::BufReader::with_capacity(
            1 << 16,
            Lettore {
                file: self.file.try_clone()?,
                pos: 0,
            },
        ))
    }
}

/// The end of a task reading a spooled upload: what it read, or a 500 when the file could
/// not be read back (or the task failed).
pub async fn letto<T>(lettore: tokio::task::JoinHandle<std::io::Result<T>>) -> Result<T, ApiError> {
    lettore
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| {
            ApiError::Internal(anyhow::Error::new(e).context("reading the spooled upload"))
        })
}

/// Reads the spooled file at its own position: the handles of one file share the
/// operating system's offset, so each reader reads by position instead.
pub struct Lettore {
    file: std::fs::File,
    pos: u64,
}

impl std::io::Read for Lettore {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}
