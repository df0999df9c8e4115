//! The Numenta Anomaly Benchmark's scoring (v1.1), from its description: a probationary period,
//! scaled-sigmoid weights that reward the earliest detection in each labelled window and charge
//! detections outside windows less the closer they follow one, one threshold per detector and
//! cost profile chosen over the whole corpus, and normalisation between the detector that never
//! fires and the perfect one.

/// The costs of one profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Name (`standard`, `reward_low_FP_rate`, `reward_low_FN_rate`).
    pub name: &'static str,
    /// Weight of a true positive.
    pub tp: f64,
    /// Cost of a false positive.
    pub fp: f64,
    /// Cost of a missed window.
    pub fn_: f64,
}

/// NAB's three cost profiles.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        tp: 1.0,
        fp: 0.11,
        fn_: 1.0,
    },
    Profile {
        name: "reward_low_FP_rate",
        tp: 1.0,
        fp: 0.22,
        fn_: 1.0,
    },
    Profile {
        name: "reward_low_FN_rate",
        tp: 1.0,
        fp: 0.11,
        fn_: 2.0,
    },
];

/// One data file: its anomaly scores, one per row, and its labelled windows as inclusive row
/// index ranges, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    /// Name, for reports.
    pub name: String,
    /// The detector's score of each row, in [0, 1].
    pub scores: Vec<f64>,
    /// Windows `(first row, last row)`.
    pub windows: Vec<(usize, usize)>,
}

/// The scaled sigmoid: `2 / (1 + e^(5y)) − 1`, and −1 beyond 3.
pub fn sigma(y: f64) -> f64 {
    if y > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * y).exp()) - 1.0
    }
}

/// Rows ignored at the start of a file of `n` rows.
pub fn probation(n: usize) -> usize {
    ((n as f64 * 0.15).floor() as usize).min(750)
}

/// What a row is worth when detected: its weight, and the window it lies in.
fn weight(windows: &[(usize, usize)], i: usize, p: &Profile) -> (f64, Option<usize>) {
    let mut prev: Option<(usize, usize)> = None;
    for (k, &(a, b)) in windows.iter().enumerate() {
        if i >= a && i <= b {
            let w = (b - a + 1) as f64;
            let y = -((b - i + 1) as f64) / w;
            return (sigma(y) * p.tp / sigma(-1.0), Some(k));
        }
        if b < i {
            prev = Some((a, b));
        }
    }
    match prev {
        Some((a, b)) => {
            let width = (b - a + 1) as f64;
            let y = (i - b) as f64 / (width - 1.0).max(1.0);
            (sigma(y) * p.fp, None)
        }
        None => (-p.fp, None),
    }
}

/// The windows that count (those ending after the probationary period).
fn counted(f: &File) -> Vec<bool> {
    let skip = probation(f.scores.len());
    f.windows.iter().map(|&(_, b)| b >= skip).collect()
}

/// A file's score at threshold `theta`.
pub fn file_score(f: &File, theta: f64, p: &Profile) -> f64 {
    let skip = probation(f.scores.len());
    let counts = counted(f);
    let mut best: Vec<Option<f64>> = vec![None; f.windows.len()];
    let mut outside = 0.0;
    for (i, s) in f.scores.iter().enumerate().skip(skip) {
        if *s < theta {
            continue;
        }
        match weight(&f.windows, i, p) {
            (w, Some(k)) => best[k] = Some(best[k].map_or(w, |b: f64| b.max(w))),
            (w, None) => outside += w,
        }
    }
    let windows: f64 = best
        .iter()
        .zip(&counts)
        .filter(|(_, c)| **c)
        .map(|(b, _)| b.unwrap_or(-p.fn_))
        .sum();
    windows + outside
}

/// The corpus score of one profile: the best threshold, the raw score there, and the
/// normalised NAB score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The threshold chosen.
    pub threshold: f64,
    /// Sum of the files' scores at it.
    pub raw: f64,
    /// `100 · (raw − null) / (perfect − null)`.
    pub normalised: f64,
}

/// A detection candidate: its score, its weight, and its window as (file, index).
type Candidate = (f64, f64, Option<(usize, usize)>);

/// Scores a corpus for profile `p`: sweeps every distinct score as the threshold, from the
/// highest down, adding one detection at a time, and keeps the best.
pub fn score_corpus(files: &[File], p: &Profile) -> Scored {
    let mut rows: Vec<Candidate> = Vec::new();
    let mut windows = 0usize;
    let mut counts = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let c = counted(f);
        windows += c.iter().filter(|x| **x).count();
        let skip = probation(f.scores.len());
        for (i, s) in f.scores.iter().enumerate().skip(skip) {
            if s.is_nan() {
                continue;
            }
            let (w, k) = weight(&f.windows, i, p);
            // A detection in a window that does not count is worth nothing.
            match k {
                Some(k) if !c[k] => {}
                Some(k) => rows.push((*s, w, Some((fi, k)))),
                None => rows.push((*s, w, None)),
            }
        }
        counts.push(c);
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let null = -p.fn_ * windows as f64;
    let perfect = p.tp * windows as f64;
    let mut best_in: Vec<Vec<Option<f64>>> =
        files.iter().map(|f| vec![None; f.windows.len()]).collect();
    // Threshold above every score: nothing detected.
    let mut total = null;
    let mut best = Scored {
        threshold: f64::INFINITY,
        raw: total,
        normalised: 0.0,
    };
    let mut i = 0;
    while i < rows.len() {
        let theta = rows[i].0;
        while i < rows.len() && rows[i].0 == theta {
            let (_, w, k) = rows[i];
            match k {
                None => total += w,
                Some((fi, k)) => {
                    let slot = &mut best_in[fi][k];
                    match *slot {
                        None => {
                            total += w + p.fn_;
                            *slot = Some(w);
                        }
                        Some(b) if w > b => {
                            total += w - b;
                            *slot = Some(w);
                        }
                        Some(_) => {}
                    }
                }
            }
            i += 1;
        }
        if total > best.raw {
            best = Scored {
                threshold: theta,
                raw: total,
                normalised: 0.0,
            };
        }
    }
    best.normalised = if perfect > null {
        100.0 * (best.raw - null) / (perfect - null)
    } else {
        0.0
    };
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    const STANDARD: Profile = PROFILES[0];

    /// 100 rows (15 probationary), one window over rows 50..=59.
    fn file(scores: Vec<f64>) -> File {
        File {
            name: "f".into(),
            scores,
            windows: vec![(50, 59)],
        }
    }

    #[test]
    fn the_sigmoid_and_the_probation() {
        assert!(close(sigma(0.0), 0.0));
        assert!(close(sigma(-1.0), 2.0 / (1.0 + (-5.0f64).exp()) - 1.0));
        assert_eq!(sigma(3.5), -1.0);
        assert_eq!(probation(100), 15);
        assert_eq!(probation(10_000), 750);
    }

    #[test]
    fn hand_worked_files() {
        // Detected at the window's first row: weight σ(-1)/σ(-1) = 1.
        let mut s = vec![0.0; 100];
        s[50] = 1.0;
        assert!(close(file_score(&file(s.clone()), 0.5, &STANDARD), 1.0));
        // At its last row: y = -1/10, weight σ(-0.1)/σ(-1).
        let mut s = vec![0.0; 100];
        s[59] = 1.0;
        let w = sigma(-0.1) / sigma(-1.0);
        assert!(close(file_score(&file(s), 0.5, &STANDARD), w));
        assert!(w > 0.0 && w < 0.3, "{w}");
        // Missed: −1; a false positive before the window: −0.11 more.
        let mut s = vec![0.0; 100];
        s[30] = 1.0;
        assert!(close(file_score(&file(s), 0.5, &STANDARD), -1.11));
        // A false positive 5 rows after the window: σ(5/9)·0.11; one in the probation: nothing.
        let mut s = vec![0.0; 100];
        s[50] = 1.0;
        s[64] = 1.0;
        s[3] = 1.0;
        let after = sigma(5.0 / 9.0) * 0.11;
        assert!(close(file_score(&file(s), 0.5, &STANDARD), 1.0 + after));
        assert!(after < 0.0 && after > -0.11);
    }

    #[test]
    fn the_corpus_threshold_and_normalisation() {
        // File a: its window's first row scores 0.9, noise elsewhere 0.3 at 20 rows. File b:
        // nothing stands out. The best threshold is 0.9: a detects perfectly, b misses.
        let mut a = vec![0.1; 100];
        a[50] = 0.9;
        for i in (20..100).step_by(4).filter(|i| !(50..60).contains(i)) {
            a[i] = 0.3;
        }
        let b = vec![0.2; 100];
        let files = [file(a), file(b)];
        let s = score_corpus(&files, &STANDARD);
        assert_eq!(s.threshold, 0.9);
        assert!(close(s.raw, 1.0 - 1.0));
        // null = −2, perfect = 2: (0 + 2) / 4 = 50.
        assert!(close(s.normalised, 50.0), "{s:?}");
        // The sweep agrees with scoring each file at that threshold.
        let direct: f64 = files
            .iter()
            .map(|f| file_score(f, s.threshold, &STANDARD))
            .sum();
        assert!(close(direct, s.raw));
        // A detector that never fires scores 0; a perfect one 100.
        let quiet = [file(vec![0.0; 100])];
        assert_eq!(score_corpus(&quiet, &STANDARD).normalised, 0.0);
        let mut p = vec![0.0; 100];
        p[50] = 1.0;
        assert!(close(score_corpus(&[file(p)], &STANDARD).normalised, 100.0));
    }
}
