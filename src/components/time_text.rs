//! Times as the pages show them, in UTC, with no date library in the browser bundle.

/// `2026-11-22 10:41:07 UTC` for seconds since the epoch (the civil-from-days algorithm, so the
/// browser bundle needs no date library). Written digit by digit: `format!` with padded fields
/// was a visible part of a dashboard render, which shows four of these.
pub fn format_utc(secs: u64) -> String {
    let (year, month, day, h, m, s) = civil_time(secs);
    let mut text = String::with_capacity(23);
    if (0..10_000).contains(&year) {
        push_digits(&mut text, year as u64, 4);
    } else {
        text.push_str(&year.to_string());
    }
    for (separator, value) in [
        ('-', month as u64),
        ('-', day as u64),
        (' ', h),
        (':', m),
        (':', s),
    ] {
        text.push(separator);
        push_digits(&mut text, value, 2);
    }
    text.push_str(" UTC");
    text
}

/// `value`'s last `width` decimal digits, zero-padded.
fn push_digits(text: &mut String, value: u64, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u64.pow(place)) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

/// Year, month, day, hour, minute, second (UTC) of seconds since the epoch, by Howard Hinnant's
/// civil-from-days algorithm.
pub fn civil_time(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// `4 min 05 s`, `1 h 02 min`, or `expired`, for a number of seconds left.
pub fn format_remaining(secs: i64) -> String {
    if secs <= 0 {
        return "expired".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_795_343_400), "2026-11-22 10:30:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(253_402_300_799), "9999-12-31 23:59:59 UTC");
        assert_eq!(format_utc(253_402_300_800), "10000-01-01 00:00:00 UTC");
    }

    #[test]
    fn remaining_time_reads_naturally() {
        assert_eq!(format_remaining(-3), "expired");
        assert_eq!(format_remaining(42), "42 s");
        assert_eq!(format_remaining(245), "4 min 05 s");
        assert_eq!(format_remaining(3720), "1 h 02 min");
    }
}
