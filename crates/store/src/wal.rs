//! The write-ahead log. Every accepted batch is written here before it is acknowledged, so that
//! a killed process loses nothing it acknowledged: records reach the operating system with each
//! write, and are synced to the device on a timer and at every segment rotation.
//!
//! Layout: `wal/NNNNNNNN` segment files, each starting with the 8-byte magic `KPWAL001`, then
//! records framed as `[len u32][crc32 u32][type u8][payload]`. At start the segments after the
//! last flushed one are replayed; a torn or corrupt tail is truncated and reported, never fatal.

pub mod record;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub use record::Record;
use tracing::warn;

use crate::{SeriesRef, StoreError};

/// Magic and version at the start of every segment.
pub const MAGIC: &[u8; 8] = b"KPWAL001";
/// Segments rotate past this size.
const SEGMENT_BYTES: u64 = 64 << 20;
/// Largest record accepted on replay.
const MAX_RECORD: usize = 256 << 20;

/// The open WAL.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    segment: u64,
    file: File,
    size: u64,
    buf: Vec<u8>,
    dirty: bool,
}

fn seg_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{n:08}"))
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Segment numbers present in `dir`, ascending.
pub fn segments(dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let e = e.map_err(|e| io(dir, e))?;
        if let Some(n) = e.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) {
            v.push(n);
        }
    }
    v.sort_unstable();
    Ok(v)
}

/// What replay found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records replayed.
    pub records: u64,
    /// Segments read.
    pub segments: u64,
    /// Bytes of torn or corrupt tail that were truncated.
    pub truncated_bytes: u64,
}

impl Wal {
    /// Replays segments numbered `from` and above through `visit`, truncating a torn or corrupt
    /// tail, then opens a new segment for writing.
    pub fn open(
        dir: &Path,
        from: u64,
        mut visit: impl FnMut(Record),
    ) -> Result<(Self, ReplayStats), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut stats = ReplayStats::default();
        let segs = segments(dir)?;
        let mut last = from.max(1);
        let mut broken = false;
        for &n in segs.iter().filter(|&&n| n >= from) {
            let path = seg_path(dir, n);
            if broken {
                // Everything after a corruption point is unreliable: drop it.
                warn!(segment = n, "dropping wal segment after corruption");
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
                continue;
            }
            let (good, total) = replay_segment(&path, &mut visit, &mut stats)?;
            if good < total {
                warn!(
                    segment = n,
                    kept = good,
                    dropped = total - good,
                    "wal tail torn or corrupt, truncating"
                );
                stats.truncated_bytes += total - good;
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| io(&path, e))?;
                f.set_len(good).map_err(|e| io(&path, e))?;
                f.sync_all().map_err(|e| io(&path, e))?;
                broken = true;
            }
            stats.segments += 1;
            last = n + 1;
        }
        let (file, size) = create_segment(dir, last)?;
        Ok((
            Self {
                dir: dir.to_path_buf(),
                segment: last,
                file,
                size,
                buf: Vec::with_capacity(1 << 16),
                dirty: false,
            },
            stats,
        ))
    }

    /// The segment being written.
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Writes a series record.
    pub fn log_series(&mut self, r: SeriesRef, labels: &[(&str, &str)]) -> Result<(), StoreError> {
        self.frame(record::SERIES, |b| record::encode_series(b, r, labels))
    }

    /// Writes a samples record.
    pub fn log_samples(&mut self, samples: &[(SeriesRef, i64, f64)]) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        self.frame(record::SAMPLES, |b| record::encode_samples(b, samples))
    }

    fn frame(&mut self, ty: u8, payload: impl FnOnce(&mut Vec<u8>)) -> Result<(), StoreError> {
        self.buf.clear();
        self.buf.extend_from_slice(&[0; 8]);
        self.buf.push(ty);
        payload(&mut self.buf);
        let len = (self.buf.len() - 8) as u32;
        let crc = crc32fast::hash(&self.buf[8..]);
        self.buf[0..4].copy_from_slice(&len.to_le_bytes());
        self.buf[4..8].copy_from_slice(&crc.to_le_bytes());
        let path = seg_path(&self.dir, self.segment);
        self.file.write_all(&self.buf).map_err(|e| io(&path, e))?;
        self.size += self.buf.len() as u64;
        self.dirty = true;
        if self.size >= SEGMENT_BYTES {
            self.rotate()?;
        }
        Ok(())
    }

    /// Syncs the current segment to the device if anything was written since the last sync.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            let path = seg_path(&self.dir, self.segment);
            self.file.sync_data().map_err(|e| io(&path, e))?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Closes the current segment (synced) and starts the next one. Returns the new number.
    pub fn rotate(&mut self) -> Result<u64, StoreError> {
        self.sync()?;
        let (file, size) = create_segment(&self.dir, self.segment + 1)?;
        self.segment += 1;
        self.file = file;
        self.size = size;
        Ok(self.segment)
    }

    /// Deletes segments numbered below `n`.
    pub fn remove_before(&self, n: u64) -> Result<(), StoreError> {
        for s in segments(&self.dir)?.into_iter().filter(|&s| s < n) {
            let p = seg_path(&self.dir, s);
            std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
        }
        Ok(())
    }

    /// Total bytes of all segments.
    pub fn disk_bytes(&self) -> u64 {
        segments(&self.dir)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| std::fs::metadata(seg_path(&self.dir, s)).ok())
            .map(|m| m.len())
            .sum()
    }
}

fn create_segment(dir: &Path, n: u64) -> Result<(File, u64), StoreError> {
    let path = seg_path(dir, n);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(|e| io(&path, e))?;
    f.write_all(MAGIC).map_err(|e| io(&path, e))?;
    f.sync_all().map_err(|e| io(&path, e))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok((f, MAGIC.len() as u64))
}

/// Replays one segment; returns the length of its valid prefix and its total length.
fn replay_segment(
    path: &Path,
    visit: &mut impl FnMut(Record),
    stats: &mut ReplayStats,
) -> Result<(u64, u64), StoreError> {
    let mut f = File::open(path).map_err(|e| io(path, e))?;
    let total = f.seek(SeekFrom::End(0)).map_err(|e| io(path, e))?;
    f.seek(SeekFrom::Start(0)).map_err(|e| io(path, e))?;
    let mut data = Vec::with_capacity(total as usize);
    f.read_to_end(&mut data).map_err(|e| io(path, e))?;
    if data.len() < MAGIC.len() || &data[..MAGIC.len()] != MAGIC {
        if data.len() >= MAGIC.len() && data[..5] == MAGIC[..5] {
            return Err(StoreError::Format(format!(
                "{}: unsupported wal version {:?}",
                path.display(),
                String::from_utf8_lossy(&data[..8])
            )));
        }
        return Ok((0, total));
    }
    let mut pos = MAGIC.len();
    while pos + 9 <= data.len() {
        let len =
            u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let crc = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]);
        if len == 0 || len > MAX_RECORD || pos + 8 + len > data.len() {
            break;
        }
        let body = &data[pos + 8..pos + 8 + len];
        if crc32fast::hash(body) != crc {
            break;
        }
        let Some(rec) = record::decode(body[0], &body[1..]) else {
            break;
        };
        visit(rec);
        stats.records += 1;
        pos += 8 + len;
    }
    Ok((pos as u64, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(dir: &Path, from: u64) -> (Vec<Record>, ReplayStats, Wal) {
        let mut recs = Vec::new();
        let (wal, stats) = Wal::open(dir, from, |r| recs.push(r)).unwrap();
        (recs, stats, wal)
    }

    #[test]
    fn replays_what_was_written_and_truncates_a_torn_tail() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, _, mut wal) = collect(tmp.path(), 0);
        wal.log_series(SeriesRef(0), &[("__name__", "up")]).unwrap();
        wal.log_samples(&[(SeriesRef(0), 1000, 1.0), (SeriesRef(0), 2000, 0.0)])
            .unwrap();
        wal.log_samples(&[(SeriesRef(0), 3000, 1.0)]).unwrap();
        let seg = seg_path(tmp.path(), wal.segment());
        drop(wal);
        // Tear the last record in half, as a crash during write would.
        let len = std::fs::metadata(&seg).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(len - 5)
            .unwrap();
        let (recs, stats, wal) = collect(tmp.path(), 0);
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[1],
            Record::Samples(vec![(SeriesRef(0), 1000, 1.0), (SeriesRef(0), 2000, 0.0)])
        );
        assert!(stats.truncated_bytes > 0);
        drop(wal);
        // The truncation is permanent: the next replay is clean.
        let (recs, stats, _) = collect(tmp.path(), 0);
        assert_eq!((recs.len(), stats.truncated_bytes), (2, 0));
    }

    #[test]
    fn corruption_drops_later_segments_and_flipped_bits_are_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, _, mut wal) = collect(tmp.path(), 0);
        wal.log_samples(&[(SeriesRef(1), 1, 1.0)]).unwrap();
        let first = wal.segment();
        wal.rotate().unwrap();
        wal.log_samples(&[(SeriesRef(1), 2, 2.0)]).unwrap();
        drop(wal);
        let p = seg_path(tmp.path(), first);
        let mut bytes = std::fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&p, bytes).unwrap();
        let (recs, stats, _) = collect(tmp.path(), 0);
        assert!(recs.is_empty());
        assert!(stats.truncated_bytes > 0);
    }

    #[test]
    fn replay_starts_at_the_checkpoint_and_rejects_other_versions() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, _, mut wal) = collect(tmp.path(), 0);
        wal.log_samples(&[(SeriesRef(1), 1, 1.0)]).unwrap();
        let next = wal.rotate().unwrap();
        wal.log_samples(&[(SeriesRef(1), 2, 2.0)]).unwrap();
        wal.remove_before(next).unwrap();
        drop(wal);
        let (recs, _, _) = collect(tmp.path(), next);
        assert_eq!(recs, vec![Record::Samples(vec![(SeriesRef(1), 2, 2.0)])]);
        std::fs::write(seg_path(tmp.path(), 99), b"KPWAL999rest").unwrap();
        assert!(matches!(
            Wal::open(tmp.path(), 0, |_| {}),
            Err(StoreError::Format(_))
        ));
    }
}
