//! RFC 3339 timestamps (`2024-05-01T08:00:00+08:00`) -> milliseconds since the epoch, with the
//! offsets humantime does not accept.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; says briefly what is wrong otherwise.
pub(crate) fn parse_rfc3339_ms(text: &str) -> Result<i64, &'static str> {
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err("too short");
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let part = text.get(range).ok_or("malformed")?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse::<i64>().map_err(|_| "malformed")
        } else {
            Err("malformed")
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err("malformed");
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("no such time");
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err("malformed fraction");
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().map_err(|_| "malformed fraction")?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let part = |r: std::ops::Range<usize>| rest.get(r).and_then(|p| p.parse::<i64>().ok());
            let (Some(h), Some(m)) = (part(1..3), part(4..6)) else {
                return Err("malformed offset");
            };
            if h > 23 || m > 59 {
                return Err("malformed offset");
            }
            sign * (h * 60 + m)
        }
        _ => return Err("needs a time zone: Z or +HH:MM"),
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
            - offset_minutes * 60;
    if seconds < 0 {
        return Err("before 1970");
    }
    Ok(seconds * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_rfc3339_ms("2024-05-01T00:00:00Z"),
            Ok(1_714_521_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-05-01T08:00:00+08:00"),
            Ok(1_714_521_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-05-01T00:00:00.25Z"),
            Ok(1_714_521_600_250)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00Z"),
            Ok(1_709_164_800_000)
        );
        assert!(parse_rfc3339_ms("2023-02-29T00:00:00Z").is_err());
        assert!(parse_rfc3339_ms("2024-05-01T00:00:00").is_err());
        assert!(parse_rfc3339_ms("yesterday").is_err());
    }
}
