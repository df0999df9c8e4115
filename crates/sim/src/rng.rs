//! The seeded random number generator: xoshiro256++ seeded through SplitMix64. Its output is
//! fixed by this file alone (no dependency can change it), so a seed reproduces a simulation
//! byte for byte on every machine. Every entity draws from its own stream ([`SimRng::fork`]),
//! so that injecting a fault into one pod leaves the noise of all the others untouched.

/// A deterministic pseudo-random generator.
#[derive(Debug, Clone)]
pub struct SimRng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SimRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        Self {
            s: [
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
            ],
        }
    }

    /// An independent stream derived from this generator's seed state and `stream`, without
    /// advancing this generator.
    pub fn fork(&self, stream: u64) -> Self {
        let mut x =
            self.s[0] ^ self.s[2].rotate_left(17) ^ stream.wrapping_mul(0xa076_1d64_78bd_642f);
        Self::new(splitmix64(&mut x))
    }

    /// A stream derived from a seed and a name (stable across runs).
    pub fn for_name(seed: u64, name: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Self::new(seed ^ h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[0]
            .wrapping_add(self.s[3])
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box–Muller, one value per call).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).max(1e-300).ln()
    }

    /// Poisson with mean `lambda` (Knuth below 30, normal approximation above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-lambda).exp();
        let mut k = 0u64;
        let mut p = 1.0;
        loop {
            p *= self.f64();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }

    /// `n` lowercase characters from Kubernetes' name-suffix alphabet (no vowels, no
    /// look-alike digits), as used in generated pod names.
    pub fn k8s_suffix(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| ALPHABET[self.index(ALPHABET.len())] as char)
            .collect()
    }

    /// A random UUID (version 4 layout), as Kubernetes assigns to objects.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }

    /// `n` random bytes as lowercase hex (trace ids, container ids).
    pub fn hex(&mut self, n_bytes: usize) -> String {
        let mut s = String::with_capacity(n_bytes * 2);
        let mut left = n_bytes;
        while left > 0 {
            let v = self.next_u64();
            let take = left.min(8);
            for i in 0..take {
                let byte = (v >> (i * 8)) & 0xff;
                s.push_str(&format!("{byte:02x}"));
            }
            left -= take;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SimRng::new(7);
        let mut b = SimRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SimRng::new(7).next_u64(), SimRng::new(8).next_u64());
    }

    #[test]
    fn fork_does_not_advance_parent() {
        let a = SimRng::new(1);
        let mut f1 = a.fork(3);
        let mut f2 = a.fork(3);
        assert_eq!(f1.next_u64(), f2.next_u64());
        assert_ne!(a.fork(3).next_u64(), a.fork(4).next_u64());
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let mut r = SimRng::new(42);
        let n = 100_000;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let normals: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = mean(&normals);
        let var = normals.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.02, "{m}");
        assert!((var - 1.0).abs() < 0.03, "{var}");
        let pois: Vec<f64> = (0..n).map(|_| r.poisson(3.5) as f64).collect();
        assert!((mean(&pois) - 3.5).abs() < 0.05);
        let big: Vec<f64> = (0..n).map(|_| r.poisson(100.0) as f64).collect();
        assert!((mean(&big) - 100.0).abs() < 0.3);
        let ex: Vec<f64> = (0..n).map(|_| r.exp(2.0)).collect();
        assert!((mean(&ex) - 2.0).abs() < 0.05);
        assert!((0..1000).all(|_| r.below(10) < 10));
    }

    #[test]
    fn identifiers_look_like_kubernetes() {
        let mut r = SimRng::new(1);
        let u = r.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(r.k8s_suffix(5).len(), 5);
        assert_eq!(r.hex(16).len(), 32);
        assert_eq!(r.hex(3).len(), 6);
    }
}
