//! Counting and measuring: latency histograms (HDR, microsecond resolution) with their
//! percentile summary, and per-publisher sequence tracking that tells lost, duplicated
//! and reordered messages apart exactly.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest latency recorded, in microseconds (one hour); larger values are clamped.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// An HDR histogram of latencies in microseconds (3 significant digits).
#[derive(Clone, Debug)]
pub struct Latency {
    hist: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new()
    }
}

impl Latency {
    /// An empty histogram. It starts small and grows with the largest value recorded.
    pub fn new() -> Latency {
        // Invariant: 3 significant figures is within hdrhistogram's 0..=5 range, so
        // creation cannot fail.
        let hist = Histogram::new(3).expect("3 significant figures is a valid precision");
        Latency { hist }
    }

    /// Record one latency in nanoseconds (rounded down to microseconds, clamped to 1 h).
    pub fn record_ns(&mut self, ns: u64) {
        self.record_us(ns / 1_000);
    }

    /// Record one latency in microseconds (clamped to one hour).
    pub fn record_us(&mut self, us: u64) {
        let v = us.min(MAX_LATENCY_US);
        // `record` grows the auto-resizing histogram; `saturating_record` would clamp to
        // its current top instead.
        if self.hist.record(v).is_err() {
            self.hist.saturating_record(v);
        }
    }

    /// Add every value of another histogram.
    pub fn merge(&mut self, other: &Latency) {
        // Both grow automatically, so adding cannot run out of range; a failure would
        // only drop values, which the count in the summary would then show.
        let _ = self.hist.add(&other.hist);
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Forget every value.
    pub fn clear(&mut self) {
        self.hist.reset();
    }

    /// The value at a percentile (0..=100), in microseconds; 0 when empty.
    pub fn percentile_us(&self, p: f64) -> u64 {
        if self.hist.is_empty() {
            0
        } else {
            self.hist.value_at_percentile(p)
        }
    }

    /// The distribution in logarithmic buckets, [`BUCKETS_PER_DECADE`] per power of ten
    /// from 1 µs (a value of 0 µs counts in the first bucket); only buckets holding a
    /// value are listed, in increasing order. `None` when nothing was recorded.
    pub fn log_buckets(&self) -> Option<Vec<LatencyBucket>> {
        if self.hist.is_empty() {
            return None;
        }
        let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
        for v in self.hist.iter_recorded() {
            let us = v.value_iterated_to().max(1) as f64;
            // Nudged so that an exact bound (10 µs, 100 µs) opens its own bucket
            // despite rounding in log10.
            let k = ((us.log10() + 1e-9) * f64::from(BUCKETS_PER_DECADE)).floor();
            *counts.entry(k.max(0.0) as u32).or_default() += v.count_at_value();
        }
        let bound = |k: u32| round_sig(10f64.powf(f64::from(k) / f64::from(BUCKETS_PER_DECADE)));
        Some(
            counts
                .into_iter()
                .map(|(k, count)| LatencyBucket {
                    from_us: bound(k),
                    to_us: bound(k + 1),
                    count,
                })
                .collect(),
        )
    }

    /// The percentile summary, or `None` when nothing was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        if self.hist.is_empty() {
            return None;
        }
        let h = &self.hist;
        Some(LatencySummary {
            count: h.len(),
            min: h.min(),
            mean: (h.mean() * 10.0).round() / 10.0,
            p50: h.value_at_percentile(50.0),
            p90: h.value_at_percentile(90.0),
            p99: h.value_at_percentile(99.0),
            p999: h.value_at_percentile(99.9),
            max: h.max(),
        })
    }
}

/// Buckets per power of ten in [`Latency::log_buckets`].
pub const BUCKETS_PER_DECADE: u32 = 10;

/// One bucket of a latency distribution: `count` values in `from_us..to_us`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    /// Lower bound (inclusive), µs, to 4 significant digits.
    pub from_us: f64,
    /// Upper bound (exclusive), µs, to 4 significant digits.
    pub to_us: f64,
    /// Values in the bucket.
    pub count: u64,
}

/// `x` rounded to 4 significant digits (bucket bounds read as 1.259, 12.59, 125.9).
fn round_sig(x: f64) -> f64 {
    if x <= 0.0 {
        return x;
    }
    let scale = 10f64.powi(3 - x.log10().floor() as i32);
    (x * scale).round() / scale
}

/// Latency percentiles in microseconds. Values are those of the HDR histogram: exact to
/// 3 significant digits (a reported value is the highest value equivalent to the
/// recorded one at that precision).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Smallest value.
    pub min: u64,
    /// Arithmetic mean (one decimal).
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest value.
    pub max: u64,
}

impl LatencySummary {
    /// One line for the text summary: `p50 41µs  p90 60µs ...`.
    pub fn line(&self) -> String {
        format!(
            "min {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}  (n={})",
            fmt_us(self.min),
            fmt_us(self.p50),
            fmt_us(self.p90),
            fmt_us(self.p99),
            fmt_us(self.p999),
            fmt_us(self.max),
            fmt_us(self.mean.round() as u64),
            self.count
        )
    }
}

/// A microsecond value for humans: `850µs`, `12.3ms`, `4.20s`.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// Delivery accounting for the messages of one publisher as seen by one subscriber.
///
/// Sequence numbers start at 0. A message whose number is above the next expected one
/// opens a gap; a message that later fills a gap is *reordered* (not lost); a message
/// whose number was already seen is a *duplicate*. Whatever is still in a gap at the
/// end is *lost*, and so are the messages the publisher sent after the last one seen
/// when the publisher's total is known ([`SeqTracker::finish`]).
#[derive(Clone, Debug, Default)]
pub struct SeqTracker {
    /// One more than the highest sequence number seen.
    next: u64,
    /// Gaps not yet filled: start -> end (exclusive).
    gaps: BTreeMap<u64, u64>,
    /// Distinct messages received.
    pub unique: u64,
    /// Messages received more than once (every extra copy counts).
    pub duplicates: u64,
    /// Messages that arrived after a later one of the same publisher.
    pub reordered: u64,
}

impl SeqTracker {
    /// Account for one received sequence number.
    pub fn observe(&mut self, seq: u64) {
        if seq == self.next {
            self.next += 1;
            self.unique += 1;
        } else if seq > self.next {
            self.gaps.insert(self.next, seq);
            self.next = seq.saturating_add(1);
            self.unique += 1;
        } else {
            // Below the highest seen: either fills a gap (reordered) or a duplicate.
            let found = self
                .gaps
                .range(..=seq)
                .next_back()
                .filter(|(_, end)| seq < **end)
                .map(|(s, e)| (*s, *e));
            match found {
                Some((start, end)) => {
                    self.gaps.remove(&start);
                    if start < seq {
                        self.gaps.insert(start, seq);
                    }
                    if seq + 1 < end {
                        self.gaps.insert(seq + 1, end);
                    }
                    self.reordered += 1;
                    self.unique += 1;
                }
                None => self.duplicates += 1,
            }
        }
    }

    /// Messages still missing in the gaps below the highest number seen.
    pub fn missing(&self) -> u64 {
        self.gaps.iter().map(|(s, e)| e - s).sum()
    }

    /// One more than the highest sequence number seen (0 if none).
    pub fn next_expected(&self) -> u64 {
        self.next
    }

    /// Lost messages: the gaps, plus, when the publisher's total is known, everything
    /// it sent after the highest number seen.
    pub fn lost(&self, published: Option<u64>) -> u64 {
        let tail = published.map_or(0, |n| n.saturating_sub(self.next));
        self.missing() + tail
    }
}

/// Totals over every (subscriber, publisher) pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Distinct messages received.
    pub unique: u64,
    /// Extra copies received.
    pub duplicates: u64,
    /// Messages received out of order.
    pub reordered: u64,
    /// Messages never received.
    pub lost: u64,
}

impl Delivery {
    /// Add one tracker's figures.
    pub fn add(&mut self, t: &SeqTracker, published: Option<u64>) {
        self.unique += t.unique;
        self.duplicates += t.duplicates;
        self.reordered += t.reordered;
        self.lost += t.lost(published);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_stream_has_no_anomalies() {
        let mut t = SeqTracker::default();
        for s in 0..1000 {
            t.observe(s);
        }
        assert_eq!(
            (t.unique, t.duplicates, t.reordered, t.missing()),
            (1000, 0, 0, 0)
        );
        assert_eq!(t.lost(Some(1000)), 0);
        assert_eq!(
            t.lost(Some(1010)),
            10,
            "tail loss counts when the total is known"
        );
    }

    #[test]
    fn late_start_counts_the_first_messages_as_lost() {
        let mut t = SeqTracker::default();
        for s in 5..10 {
            t.observe(s);
        }
        assert_eq!(t.lost(None), 5);
        assert_eq!(t.unique, 5);
    }

    #[test]
    fn duplicates_and_reordering_are_told_apart() {
        let mut t = SeqTracker::default();
        // 0 1 3 2 2 4 6 5 5 1 9 -> gaps filled by 2 and 5 (reordered), 7 and 8 lost,
        // duplicates: the second 2, the second 5, the late 1.
        for s in [0, 1, 3, 2, 2, 4, 6, 5, 5, 1, 9] {
            t.observe(s);
        }
        assert_eq!(t.unique, 8);
        assert_eq!(t.reordered, 2);
        assert_eq!(t.duplicates, 3);
        assert_eq!(t.lost(None), 2);
        assert_eq!(t.lost(Some(12)), 4);
    }

    #[test]
    fn filling_the_middle_of_a_gap_splits_it() {
        let mut t = SeqTracker::default();
        t.observe(10); // gap 0..10
        t.observe(5); // splits into 0..5 and 6..10
        t.observe(0);
        t.observe(9);
        assert_eq!(t.reordered, 3);
        assert_eq!(t.missing(), 7);
    }

    #[test]
    fn percentiles_of_a_known_distribution() {
        // 1..=10000 µs, each once: the percentiles are known to 3 significant digits.
        let mut l = Latency::new();
        for us in 1..=10_000u64 {
            l.record_ns(us * 1_000);
        }
        let s = l.summary().expect("values were recorded");
        assert_eq!(s.count, 10_000);
        assert_eq!(s.min, 1);
        let close = |got: u64, want: u64| {
            let err = (got as f64 - want as f64).abs() / want as f64;
            assert!(err <= 0.001, "got {got}, want {want} (within 0.1%)");
        };
        close(s.p50, 5_000);
        close(s.p90, 9_000);
        close(s.p99, 9_900);
        close(s.p999, 9_990);
        close(s.max, 10_000);
        assert!((s.mean - 5_000.5).abs() < 5.0, "mean {}", s.mean);
    }

    #[test]
    fn percentiles_of_a_bimodal_distribution_show_the_tail() {
        // 990 fast (100 µs) and 10 slow (50 ms) messages: p50/p90 fast, p99.9 slow.
        let mut l = Latency::new();
        for _ in 0..990 {
            l.record_us(100);
        }
        for _ in 0..10 {
            l.record_us(50_000);
        }
        let s = l.summary().expect("values were recorded");
        assert_eq!(s.p50, 100);
        assert_eq!(s.p90, 100);
        assert_eq!(s.p99, 100);
        assert!((50_000..=50_050).contains(&s.p999), "p99.9 {}", s.p999);
        assert!((50_000..=50_050).contains(&s.max));
    }

    #[test]
    fn merged_histograms_add_up() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        a.record_us(10);
        b.record_us(1_000_000);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!(a.summary().is_some_and(|s| s.max >= 1_000_000));
        assert!(Latency::new().summary().is_none());
    }

    #[test]
    fn log_buckets_hold_every_value_in_order() {
        let mut l = Latency::new();
        assert!(l.log_buckets().is_none());
        for us in [0, 1, 9, 10, 11, 100, 100, 5_000] {
            l.record_us(us);
        }
        let b = l.log_buckets().expect("values were recorded");
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 8);
        assert!(b.windows(2).all(|w| w[0].to_us <= w[1].from_us));
        // 0 and 1 µs share the first bucket; 10 and 11 µs open the second decade.
        assert_eq!((b[0].from_us, b[0].count), (1.0, 2));
        let at = |us: f64| b.iter().find(|b| b.from_us <= us && us < b.to_us);
        assert_eq!(at(10.0).map(|b| (b.from_us, b.count)), Some((10.0, 2)));
        assert_eq!(at(100.0).map(|b| b.count), Some(2));
        assert_eq!(at(5_000.0).map(|b| b.to_us), Some(5012.0));
    }

    #[test]
    fn human_durations() {
        assert_eq!(fmt_us(850), "850µs");
        assert_eq!(fmt_us(12_345), "12.35ms");
        assert_eq!(fmt_us(4_200_000), "4.20s");
    }
}
