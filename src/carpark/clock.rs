//! Wall-clock time for the car park: RFC 3339 timestamps (`2026-11-24T21:27:09.123+00:00`)
//! formatted from and parsed back to [`SystemTime`], without a date-time crate.
//!
//! The controller stamps every display update and sends the time on `carpark/time`;
//! displays parse it back to keep their local clock in step. Dates are converted with
//! the proleptic Gregorian calendar (days since 1970-01-01 to year/month/day and back).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an RFC 3339 timestamp: {}", self.0)
    }
}

impl std::error::Error for TimeError {}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12, day 1..=31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400); // 0..=399
    // Months counted from March, so the leap day is the last day of the year.
    let month_from_march = (month + 9) % 12; // March = 0 .. February = 11
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date (year, month 1..=12, day 1..=31) of a day count since
/// 1970-01-01: the inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097); // 0..=146096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..=31
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both casts are in range by construction: month is 1..=12, day is 1..=31.
    (year, month as u32, day as u32)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds since the Unix epoch (negative before 1970).
fn unix_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

fn from_unix_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Format `time` in UTC as RFC 3339 with milliseconds and an explicit `+00:00` offset,
/// e.g. `2026-11-24T21:27:09.123+00:00`.
pub fn format_rfc3339(time: SystemTime) -> String {
    let millis = unix_millis(time);
    let days = millis.div_euclid(86_400_000);
    let of_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}+00:00")
}

/// The time of day `HH:MM:SS` (UTC) of `time`, for displays.
pub fn format_hms(time: SystemTime) -> String {
    let of_day = unix_millis(time).rem_euclid(86_400_000) / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// A fixed-width run of ASCII digits at `s[at..at + n]`.
fn digits(s: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// Parse an RFC 3339 timestamp: `YYYY-MM-DD` `T` (or `t` or a space) `HH:MM:SS`, optional
/// fraction, then `Z`/`z` or a `±HH:MM` offset. A leap second (`:60`) reads as `:59`.
pub fn parse_rfc3339(text: &str) -> Result<SystemTime, TimeError> {
    let err = || TimeError(format!("{text:?}"));
    let s = text.trim().as_bytes();
    if s.len() < 20
        || s[4] != b'-'
        || s[7] != b'-'
        || !matches!(s[10], b'T' | b't' | b' ')
        || s[13] != b':'
        || s[16] != b':'
    {
        return Err(err());
    }
    let year = digits(s, 0, 4).ok_or_else(err)?;
    let month = digits(s, 5, 2).ok_or_else(err)?;
    let day = digits(s, 8, 2).ok_or_else(err)?;
    let hour = digits(s, 11, 2).ok_or_else(err)?;
    let minute = digits(s, 14, 2).ok_or_else(err)?;
    let second = digits(s, 17, 2).ok_or_else(err)?;
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 60 {
        return Err(err());
    }
    let month = month as u32; // 1..=12, checked above
    if day < 1 || day > i64::from(days_in_month(year, month)) {
        return Err(err());
    }
    let mut at = 19;
    let mut millis = 0i64;
    if s.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while at < s.len() && s[at].is_ascii_digit() {
            if at - start < 3 {
                millis = millis * 10 + i64::from(s[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err(err());
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match s.get(at..) {
        Some(b"Z") | Some(b"z") => 0,
        Some(rest) if rest.len() == 6 && matches!(rest[0], b'+' | b'-') && rest[3] == b':' => {
            let oh = digits(rest, 1, 2).ok_or_else(err)?;
            let om = digits(rest, 4, 2).ok_or_else(err)?;
            if oh > 23 || om > 59 {
                return Err(err());
            }
            let sign = if rest[0] == b'-' { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
        _ => return Err(err()),
    };
    let days = days_from_civil(year, month, day as u32); // day is 1..=31, checked above
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
    Ok(from_unix_millis(seconds * 1000 + millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_day_zero() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn civil_round_trips_over_centuries() {
        // Every day from 1600 to 2400 maps to a valid date and back.
        let start = days_from_civil(1600, 1, 1);
        let end = days_from_civil(2400, 12, 31);
        let mut previous = civil_from_days(start - 1);
        for d in start..=end {
            let (y, m, day) = civil_from_days(d);
            assert!((1..=12).contains(&m) && day >= 1 && day <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, day), d);
            assert!((y, m, day) > previous);
            previous = (y, m, day);
        }
    }

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(format_rfc3339(t), "2023-11-14T22:13:20.123+00:00");
        assert_eq!(format_hms(t), "22:13:20");
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000+00:00");
        let before = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(format_rfc3339(before), "1969-12-31T23:59:59.999+00:00");
    }

    #[test]
    fn parses_what_it_formats() {
        for ms in [
            0i64,
            1,
            999,
            86_399_999,
            951_782_400_000,
            1_700_000_000_123,
            -1,
        ] {
            let t = from_unix_millis(ms);
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Ok(t), "{ms}");
        }
        let now = SystemTime::now();
        let back = parse_rfc3339(&format_rfc3339(now)).unwrap();
        let diff = now.duration_since(back).unwrap();
        assert!(diff < Duration::from_millis(1));
    }

    #[test]
    fn parses_zulu_offsets_and_fractions() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Ok(t));
        assert_eq!(parse_rfc3339("2023-11-14t22:13:20z"), Ok(t));
        assert_eq!(parse_rfc3339("2023-11-14 22:13:20+00:00"), Ok(t));
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20+01:00"), Ok(t));
        assert_eq!(parse_rfc3339("2023-11-14T17:43:20-04:30"), Ok(t));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.5Z"),
            Ok(t + Duration::from_millis(500))
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.123456789Z"),
            Ok(t + Duration::from_millis(123))
        );
        assert_eq!(
            parse_rfc3339("2016-12-31T23:59:60Z"),
            parse_rfc3339("2016-12-31T23:59:59Z")
        );
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "now",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-13-14T22:13:20Z",
            "2023-02-29T22:13:20Z",
            "2023-11-31T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:60:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+0100",
            "2023-11-14T22:13:20+24:00",
            "2023-11-14T22:13:20Zjunk",
            "2023-1a-14T22:13:20Z",
            "２０２３-11-14T22:13:20Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn format_parse_round_trip(ms in -62_000_000_000_000i64..250_000_000_000_000i64) {
            let t = from_unix_millis(ms);
            proptest::prop_assert_eq!(parse_rfc3339(&format_rfc3339(t)), Ok(t));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = parse_rfc3339(&text);
        }
    }
}
