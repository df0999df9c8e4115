use super::*;

const WINDOW: i64 = DAY_MS / 4;
const T0: i64 = 20_000 * DAY_MS;

fn gorilla(from: i64, n: i64, v: f64) -> Chunk {
    let s: Vec<(i64, f64)> = (0..n).map(|i| (from + i * 15_000, v)).collect();
    Chunk::gorilla(&s).unwrap()
}

fn flush(d: &Disk, chunks: &[(SeriesRef, Chunk)], seq: u64) {
    d.write_flush(&Flush {
        series: &[],
        chunks,
        last: &[],
        seq,
        checkpoint: 0,
    })
    .unwrap();
}

fn read(d: &Disk, r: u32) -> Vec<(i64, f64)> {
    let mut chunks = d.chunks(SeriesRef(r), i64::MIN, i64::MAX).unwrap();
    chunks.sort_by_key(|(s, _)| *s);
    let mut m = BTreeMap::new();
    for (_, c) in chunks {
        m.extend(Chunk::from_bytes(&c).unwrap().samples().unwrap());
    }
    m.into_iter().collect()
}

fn keyspaces(d: &Disk) -> Vec<String> {
    let mut v: Vec<String> =
        d.db.list_keyspace_names()
            .iter()
            .map(|n| n.to_string())
            .filter(|n| n.starts_with("chunks_"))
            .collect();
    v.sort();
    v
}

#[test]
fn compaction_rewrites_a_day_into_the_next_generation() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Disk::open(tmp.path(), WINDOW).unwrap();
    let day = T0 / DAY_MS;
    flush(&d, &[(SeriesRef(0), gorilla(T0, 100, 1.0))], 1);
    // A later flush rewrites part of the same range: its values win.
    flush(
        &d,
        &[
            (SeriesRef(0), gorilla(T0 + 50 * 15_000, 100, 2.0)),
            (SeriesRef(1), gorilla(T0 + WINDOW, 10, 3.0)),
        ],
        2,
    );
    let before = read(&d, 0);
    assert_eq!(before.len(), 150);
    assert_eq!(before[49].1, 1.0);
    assert_eq!(before[50].1, 2.0);
    // Only the first window is closed.
    let s = d.compact_day(day, T0 + WINDOW, 3).unwrap();
    assert_eq!((s.chunks_in, s.chunks_out), (2, 1));
    assert_eq!(read(&d, 0), before);
    assert_eq!(keyspaces(&d), vec![days::name(day, 1)]);
    assert_eq!(
        d.day_state(day).unwrap().unwrap().dirty,
        [T0 + WINDOW].into_iter().collect()
    );
    // Nothing new in closed windows: nothing to do.
    assert_eq!(
        d.compact_day(day, T0 + WINDOW, 4).unwrap(),
        CompactStats::default()
    );
    let s = d.compact_day(day, T0 + DAY_MS, 5).unwrap();
    assert_eq!((s.chunks_in, s.chunks_out), (1, 1));
    drop(d);
    let d = Disk::open(tmp.path(), WINDOW).unwrap();
    assert_eq!(keyspaces(&d), vec![days::name(day, 2)]);
    assert_eq!(read(&d, 0), before);
    assert_eq!(read(&d, 1).len(), 10);
    assert!(d.day_state(day).unwrap().unwrap().dirty.is_empty());
    let stats = d.chunk_stats().unwrap();
    assert!(stats.iter().all(|s| s.encoding == crate::chunk::PCO));
}

#[test]
fn open_deletes_stray_generations_and_adopts_uncommitted_days() {
    let tmp = tempfile::tempdir().unwrap();
    let day = T0 / DAY_MS;
    {
        let d = Disk::open(tmp.path(), WINDOW).unwrap();
        flush(&d, &[(SeriesRef(0), gorilla(T0, 10, 1.0))], 1);
        // A compaction that died before committing left generation 1 behind.
        let stray = days::open_keyspace(&d.db, day, 1).unwrap();
        stray
            .insert(
                chunk_key(SeriesRef(0), T0, 9),
                gorilla(T0, 10, 7.0).to_bytes(),
            )
            .unwrap();
        // A flush that died before committing wrote the next day.
        let next = days::open_keyspace(&d.db, day + 1, 0).unwrap();
        next.insert(
            chunk_key(SeriesRef(0), T0 + DAY_MS, 2),
            gorilla(T0 + DAY_MS, 5, 4.0).to_bytes(),
        )
        .unwrap();
        d.db.persist(PersistMode::SyncAll).unwrap();
    }
    let d = Disk::open(tmp.path(), WINDOW).unwrap();
    assert_eq!(
        keyspaces(&d),
        vec![days::name(day, 0), days::name(day + 1, 0)]
    );
    let got = read(&d, 0);
    assert_eq!(got.len(), 15);
    assert!(got[..10].iter().all(|(_, v)| *v == 1.0));
    let adopted = d.day_state(day + 1).unwrap().unwrap();
    assert_eq!(adopted.dirty.len(), 4);
    let s = d.compact_day(day + 1, T0 + 3 * DAY_MS, 3).unwrap();
    assert_eq!((s.chunks_in, s.chunks_out), (1, 1));
}

#[test]
fn chunks_with_one_key_in_a_flush_are_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Disk::open(tmp.path(), WINDOW).unwrap();
    let a = gorilla(T0, 4, 1.0);
    let b = Chunk::gorilla(&[(T0, 5.0), (T0 + 1, 6.0)]).unwrap();
    flush(&d, &[(SeriesRef(3), a), (SeriesRef(3), b)], 1);
    let got = read(&d, 3);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0], (T0, 5.0));
}
