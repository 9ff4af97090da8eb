//! Calendar time for `mq sub` output (`%I`, `%U`, `%j`, `@X` strftime forms) without
//! a date library: the civil date from Unix time, the local time zone read from the
//! system's TZif files (`TZ`, else `/etc/localtime`; UTC where there is none, e.g. on
//! Windows), and a `strftime` subset.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Seconds since the Unix epoch (negative before 1970).
    pub unix: i64,
    /// Year, e.g. 2024.
    pub year: i64,
    /// Month 1-12.
    pub month: u32,
    /// Day of the month 1-31.
    pub day: u32,
    /// Hour 0-23.
    pub hour: u32,
    /// Minute 0-59.
    pub minute: u32,
    /// Second 0-59.
    pub second: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
    /// Day of the year, 0-365.
    pub yday: u32,
    /// Offset from UTC in seconds (east positive).
    pub offset: i32,
    /// Time zone abbreviation (`UTC`, `CEST`...).
    pub zone: &'static str,
}

/// Seconds and nanoseconds since the Unix epoch.
pub fn unix(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            if d.subsec_nanos() == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (-(d.as_secs() as i64) - 1, 1_000_000_000 - d.subsec_nanos())
            }
        }
    }
}

impl Civil {
    /// Break a time down in the local time zone, as `localtime(3)` does.
    pub fn from_system_time(t: SystemTime) -> Civil {
        let (secs, nanos) = unix(t);
        match local_zone() {
            Some(zone) => {
                let (offset, name) = zone.offset_at(secs);
                let mut c = Civil::from_unix(secs + i64::from(offset), nanos);
                c.unix = secs;
                c.offset = offset;
                c.zone = name;
                c
            }
            None => Civil::from_unix(secs, nanos),
        }
    }

    /// Break a time down in UTC.
    pub fn utc(t: SystemTime) -> Civil {
        let (secs, nanos) = unix(t);
        Civil::from_unix(secs, nanos)
    }

    /// Break Unix seconds down (UTC), with the days-from-civil algorithm.
    pub fn from_unix(secs: i64, nanos: u32) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        const CUMULATIVE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let yday = CUMULATIVE[(month - 1) as usize] + day - 1 + u32::from(leap && month > 2);
        Civil {
            unix: secs,
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            nanos,
            weekday: (days + 4).rem_euclid(7) as u32,
            yday,
            offset: 0,
            zone: "UTC",
        }
    }
}

/// A time zone from a TZif file (RFC 8536): transition times and local time types.
#[derive(Debug)]
pub struct Zone {
    transitions: Vec<i64>,
    type_of: Vec<u8>,
    types: Vec<(i32, &'static str)>,
}

impl Zone {
    /// Parse TZif data (version 1, or the 64-bit block of version 2+).
    pub fn parse(data: &[u8]) -> Option<Zone> {
        fn be32(d: &[u8], at: usize) -> Option<u32> {
            Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
        }
        fn counts(d: &[u8], at: usize) -> Option<[usize; 6]> {
            if d.get(at..at + 4)? != b"TZif" {
                return None;
            }
            let mut c = [0usize; 6];
            for (k, v) in c.iter_mut().enumerate() {
                *v = be32(d, at + 20 + 4 * k)? as usize;
            }
            Some(c)
        }
        // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(data, 0)?;
        let mut at = 44;
        let mut time_size = 4;
        let mut c = [isut, isstd, leap, timecnt, typecnt, charcnt];
        if *data.get(4)? >= b'2' {
            let v1 = timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
            at += v1;
            c = counts(data, at)?;
            at += 44;
            time_size = 8;
        }
        let [_, _, _, timecnt, typecnt, charcnt] = c;
        if typecnt == 0 || at + timecnt * (time_size + 1) + typecnt * 6 + charcnt > data.len() {
            return None;
        }
        let mut transitions = Vec::with_capacity(timecnt);
        for k in 0..timecnt {
            let p = at + k * time_size;
            let t = if time_size == 8 {
                i64::from_be_bytes(data.get(p..p + 8)?.try_into().ok()?)
            } else {
                i64::from(be32(data, p)? as i32)
            };
            transitions.push(t);
        }
        at += timecnt * time_size;
        let type_of = data.get(at..at + timecnt)?.to_vec();
        at += timecnt;
        let infos = data.get(at..at + typecnt * 6)?;
        let chars = data.get(at + typecnt * 6..at + typecnt * 6 + charcnt)?;
        let mut types = Vec::with_capacity(typecnt);
        for info in infos.chunks(6) {
            let offset = i32::from_be_bytes(info[..4].try_into().ok()?);
            let start = usize::from(info[5]);
            let name = chars.get(start..).unwrap_or_default();
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            let name = String::from_utf8_lossy(&name[..end]).into_owned();
            // Leaked once per zone type at start-up: a handful of short names.
            types.push((offset, &*Box::leak(name.into_boxed_str())));
        }
        if type_of.iter().any(|&i| usize::from(i) >= types.len()) {
            return None;
        }
        Some(Zone {
            transitions,
            type_of,
            types,
        })
    }

    /// The UTC offset and abbreviation in force at Unix time `t` (the last transition's
    /// type stays in force after the table ends).
    pub fn offset_at(&self, t: i64) -> (i32, &'static str) {
        let n = self.transitions.partition_point(|&x| x <= t);
        let ty = if n == 0 {
            0
        } else {
            usize::from(self.type_of[n - 1])
        };
        self.types.get(ty).copied().unwrap_or((0, "UTC"))
    }
}

/// The local time zone, loaded once: `TZ` (a zone name or a file path), else
/// `/etc/localtime`. `None` means UTC.
fn local_zone() -> Option<&'static Zone> {
    static ZONE: OnceLock<Option<Zone>> = OnceLock::new();
    ZONE.get_or_init(load_local_zone).as_ref()
}

#[cfg(unix)]
fn load_local_zone() -> Option<Zone> {
    let path = match std::env::var("TZ") {
        Ok(tz) => {
            let tz = tz.trim_start_matches(':');
            if tz.is_empty() || tz.contains("..") {
                return None;
            }
            if tz.starts_with('/') {
                tz.to_string()
            } else {
                format!("/usr/share/zoneinfo/{tz}")
            }
        }
        Err(_) => "/etc/localtime".to_string(),
    };
    Zone::parse(&std::fs::read(path).ok()?)
}

#[cfg(not(unix))]
fn load_local_zone() -> Option<Zone> {
    None
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// One `strftime` conversion `%c` for a UTC time (the C locale). An unknown
/// conversion is printed as it is, as glibc does.
pub fn strftime(c: char, t: &Civil) -> String {
    let day_name = DAYS[t.weekday as usize % 7];
    let month_name = MONTHS[(t.month as usize + 11) % 12];
    let hour12 = if t.hour.is_multiple_of(12) {
        12
    } else {
        t.hour % 12
    };
    match c {
        'a' => day_name[..3].to_string(),
        'A' => day_name.to_string(),
        'b' | 'h' => month_name[..3].to_string(),
        'B' => month_name.to_string(),
        'c' => format!(
            "{} {} {:2} {:02}:{:02}:{:02} {}",
            &day_name[..3],
            &month_name[..3],
            t.day,
            t.hour,
            t.minute,
            t.second,
            t.year
        ),
        'C' => format!("{:02}", t.year.div_euclid(100)),
        'd' => format!("{:02}", t.day),
        'D' => format!("{:02}/{:02}/{:02}", t.month, t.day, t.year.rem_euclid(100)),
        'e' => format!("{:2}", t.day),
        'F' => format!("{}-{:02}-{:02}", t.year, t.month, t.day),
        'H' => format!("{:02}", t.hour),
        'I' => format!("{hour12:02}"),
        'j' => format!("{:03}", t.yday + 1),
        'k' => format!("{:2}", t.hour),
        'l' => format!("{hour12:2}"),
        'm' => format!("{:02}", t.month),
        'M' => format!("{:02}", t.minute),
        'n' => "\n".into(),
        'p' => if t.hour < 12 { "AM" } else { "PM" }.into(),
        'P' => if t.hour < 12 { "am" } else { "pm" }.into(),
        'r' => format!(
            "{hour12:02}:{:02}:{:02} {}",
            t.minute,
            t.second,
            if t.hour < 12 { "AM" } else { "PM" }
        ),
        'R' => format!("{:02}:{:02}", t.hour, t.minute),
        's' => t.unix.to_string(),
        'S' => format!("{:02}", t.second),
        't' => "\t".into(),
        'T' => format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
        'u' => (if t.weekday == 0 { 7 } else { t.weekday }).to_string(),
        'w' => t.weekday.to_string(),
        'x' => format!("{:02}/{:02}/{:02}", t.month, t.day, t.year.rem_euclid(100)),
        'X' => format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second),
        'y' => format!("{:02}", t.year.rem_euclid(100)),
        'Y' => t.year.to_string(),
        'z' => {
            let sign = if t.offset < 0 { '-' } else { '+' };
            let m = t.offset.unsigned_abs() / 60;
            format!("{sign}{:02}{:02}", m / 60, m % 60)
        }
        'Z' => t.zone.to_string(),
        '%' => "%".into(),
        other => format!("%{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let t = Civil::from_unix(0, 0);
        assert_eq!(
            (t.year, t.month, t.day, t.weekday, t.yday),
            (1970, 1, 1, 4, 0)
        );
        let t = Civil::from_unix(1_588_801_680, 0); // 2020-05-06 21:48:00, a Wednesday
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute),
            (2020, 5, 6, 21, 48)
        );
        assert_eq!(t.weekday, 3);
        assert_eq!(strftime('j', &t), "127");
        assert_eq!(strftime('c', &t), "Wed May  6 21:48:00 2020");
        let t = Civil::from_unix(951_782_400, 0); // 2000-02-29
        assert_eq!((t.year, t.month, t.day), (2000, 2, 29));
    }

    #[test]
    fn tzif_zone_offsets() {
        // Uses the system's zone database when it is there (Linux, macOS).
        let Ok(data) = std::fs::read("/usr/share/zoneinfo/Europe/Berlin") else {
            return;
        };
        let zone = Zone::parse(&data).expect("parse TZif");
        assert_eq!(zone.offset_at(1_588_801_680), (7200, "CEST")); // 2020-05-06
        assert_eq!(zone.offset_at(1_577_880_000), (3600, "CET")); // 2020-01-01
        let mut c = Civil::from_unix(1_588_801_680 + 7200, 0);
        c.offset = 7200;
        assert_eq!(strftime('z', &c), "+0200");
        c.offset = -16_200;
        assert_eq!(strftime('z', &c), "-0430");
        assert!(Zone::parse(b"not a zone file").is_none());
        assert!(Zone::parse(&data[..60]).is_none());
    }
}
