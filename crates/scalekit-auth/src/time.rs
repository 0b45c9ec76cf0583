//! Calendar arithmetic for the two date formats the provider sends: `Expires` (HTTP dates, on
//! JWKS and discovery answers) and RFC 3339 (the sessions API).

/// Days from 1970-01-01 to a civil date (proleptic Gregorian), by Howard Hinnant's
/// days-from-civil algorithm.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::days_from_civil;

    #[test]
    fn days_from_civil_counts_from_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 22), 20_779);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
