//! What the build environment says about reproducibility: `SOURCE_DATE_EPOCH`
//! (<https://reproducible-builds.org/specs/source-date-epoch/>), read in one place for every
//! command that stamps a date into its output.

use anyhow::{Context, Result};

/// `SOURCE_DATE_EPOCH` in seconds, `None` when unset or empty; a value that is not a whole
/// number of seconds is an error naming it.
pub fn source_date_epoch() -> Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse::<i64>()
            .map(Some)
            .with_context(|| format!("SOURCE_DATE_EPOCH={value} is not a number of seconds")),
        _ => Ok(None),
    }
}

/// `SOURCE_DATE_EPOCH`, else the current time, in seconds since the epoch.
pub fn epoch_or_now() -> Result<i64> {
    Ok(source_date_epoch()?.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }))
}

/// The UTC date of `epoch` as `YYYY-MM-DD`.
pub fn date_of(epoch: i64) -> Result<String> {
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|time| time.format("%Y-%m-%d").to_string())
        .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is out of range"))
}
