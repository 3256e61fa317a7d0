//! Durations as operators write them: `500ms`, `5s`, `2m`.

use std::time::Duration;

/// Parses a whole number followed by `ms`, `s` or `m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().map_err(|_| {
        format!(
            "{text:?} is not a duration: write a whole number and a unit, such as 500ms, 5s or 2m"
        )
    })?;
    let duration = match unit.trim() {
        "ms" => Duration::from_millis(value),
        "s" => Duration::from_secs(value),
        "m" | "min" => Duration::from_secs(value.saturating_mul(60)),
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?}; use ms, s or m (500ms, 5s, 2m)"
            ));
        }
    };
    if duration.is_zero() {
        return Err(format!(
            "{text:?}: a duration of zero would disable the limit; give a positive one"
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_mistakes() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["", "5", "s", "1.5s", "5h", "0s", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
