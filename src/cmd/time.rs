//! Calendar time for `mq sub` output (`%I`, `%U`, `%j`, `@X` strftime forms), in UTC,
//! without a date library: the civil date from Unix time and a `strftime` subset.

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
    /// Break a time down (UTC).
    pub fn from_system_time(t: SystemTime) -> Civil {
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
        }
    }
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
    let hour12 = if t.hour % 12 == 0 { 12 } else { t.hour % 12 };
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
        'z' => "+0000".into(),
        'Z' => "UTC".into(),
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
}
