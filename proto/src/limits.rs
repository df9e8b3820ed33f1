//! Every bound the codec enforces, in one place so that `proto/PROTOCOL.md`
//! and the code cannot drift apart silently (a test checks the values the
//! spec quotes). A peer that exceeds one gets a typed error, never a panic
//! and never an allocation sized from its own numbers.

/// Largest value of the length prefix: the bytes of one frame after the
/// 4-byte prefix (header plus body as sent, compressed or not).
pub const MAX_FRAME_LEN: usize = 4 * 1024 * 1024;

/// Largest body once decompressed; also the bincode decoding limit.
pub const MAX_BODY_LEN: usize = 16 * 1024 * 1024;

/// Largest body of a `telemetry_batch` once decompressed: the only
/// request that needs more than a few KiB.
pub const MAX_TELEMETRY_BODY_LEN: usize = 4 * 1024 * 1024;

/// Largest body of a `proposal` or an `operate` once decompressed (the
/// largest valid proposal, 256 changes with the longest values and
/// reasons, is about 830 KiB).
pub const MAX_REQUEST_BODY_LEN: usize = 1024 * 1024;

/// Largest body of a `subscribe` once decompressed (256 targets of the
/// longest names take about 36 KiB).
pub const MAX_SUBSCRIBE_BODY_LEN: usize = 64 * 1024;

/// Largest body of a `status_query`, a `watch_assignment` or a `rollout`
/// once decompressed (a `rollout` of the longest name and reason, with a
/// signature, takes under 1.5 KiB).
pub const MAX_STATUS_QUERY_BODY_LEN: usize = 4 * 1024;

/// A frame's decoded form may take this many times its type's body limit
/// in memory (see [`max_decoded_len`]).
pub const DECODED_FACTOR: usize = 4;

/// The largest body, compressed or not, a frame of `msg_type` may carry
/// once decompressed; over it is `too_large`, checked before anything is
/// decompressed. Replies (which clients decode) may use all of
/// [`MAX_BODY_LEN`].
pub fn max_body_len(msg_type: u8) -> usize {
    use crate::codec::msg_type as t;
    match msg_type {
        t::TELEMETRY_BATCH | t::TAGGED_TELEMETRY => MAX_TELEMETRY_BODY_LEN,
        t::PROPOSAL | t::OPERATE | t::WORKFLOW => MAX_REQUEST_BODY_LEN,
        t::SUBSCRIBE => MAX_SUBSCRIBE_BODY_LEN,
        t::STATUS_QUERY | t::WATCH_ASSIGNMENT | t::ROLLOUT => MAX_STATUS_QUERY_BODY_LEN,
        _ => MAX_BODY_LEN,
    }
}

/// The memory a frame of `msg_type` may take once decoded, as the decoder
/// counts it: each string its bytes plus 16, each sequence element its
/// in-memory size, each map entry twice the size of its key and value (a
/// map's first entry a whole B-tree node of 11). Over it is `too_large`.
pub fn max_decoded_len(msg_type: u8) -> usize {
    DECODED_FACTOR * max_body_len(msg_type)
}

/// Bodies at least this long are compressed by our encoder when that makes
/// them smaller. Not normative: a receiver accepts either form.
pub const COMPRESS_THRESHOLD: usize = 16 * 1024;

/// Samples in one telemetry batch.
pub const MAX_SAMPLES_PER_BATCH: usize = 1024;

/// Elements any one sequence or map may announce: the most any message
/// holds (a telemetry batch's samples). Checked while decoding, before the
/// first element, so a count cannot make the decoder build more.
pub const MAX_ELEMENTS: usize = MAX_SAMPLES_PER_BATCH;

/// Entries in one metric map (a sample's metrics, an expected or observed
/// impact).
pub const MAX_METRICS: usize = 64;

/// Parameters in one list or map (a sample's parameters, a proposal's
/// changes, an approval's approved or rejected changes, the parameters a
/// rollback restores).
pub const MAX_PARAMETERS: usize = 256;

/// Entries in a `rollout_status`'s `recent_rollbacks`, and in its
/// `recent_verdicts` (each verdict's `metrics` is bounded by
/// [`MAX_METRICS`]).
pub const MAX_RECENT: usize = 64;

/// Target systems in one subscription.
pub const MAX_SUBSCRIBE_TARGETS: usize = 256;

/// Bytes in a name: ids, target systems, parameters, metrics, constraints,
/// sources, addresses.
pub const MAX_NAME_LEN: usize = 128;

/// Bytes in a free-text field (reasons, error messages) and in an enum
/// parameter value or a context label.
pub const MAX_TEXT_LEN: usize = 1024;

/// Bytes in a signature.
pub const MAX_SIGNATURE_LEN: usize = 256;

/// Supported frame versions listed in an `unsupported_version` error.
pub const MAX_SUPPORTED_VERSIONS: usize = 16;

/// Latest representable timestamp: 9999-12-31T23:59:59.999Z in Unix ms.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

/// Audit entries in one `audit_entries` reply.
pub const MAX_AUDIT_ENTRIES: usize = 1000;

/// Proposals in one `proposals` listing.
pub const MAX_LISTED_PROPOSALS: usize = 1000;

/// Members in one membership request, and voters (or learners) in one
/// node status.
pub const MAX_MEMBERS: usize = 64;

/// Members of one enum constraint's `values`.
pub const MAX_ENUM_VALUES: usize = 256;

/// Bytes in one audit entry's `details`. Larger than a text because the
/// details of a `set_parameters` list every value set: 256 parameters of
/// a 128-byte name and a quoted 128-byte label (escaped by Rust's `{:?}`
/// to at most 386 bytes) come to about 132 KiB, well under this.
pub const MAX_AUDIT_DETAILS_LEN: usize = 256 * 1024;

/// Cuts `text` to at most `max` bytes at a character boundary, so what a
/// reply quotes always fits its own limits.
pub fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Makes client-supplied text fit a text field: control characters other
/// than tab and newline become U+FFFD, and the result is cut to
/// [`MAX_TEXT_LEN`] bytes at a character boundary.
pub fn fit_text(text: &str) -> String {
    let clean: String = clip(text, MAX_TEXT_LEN * 2)
        .chars()
        .map(|c| match c.is_control() && c != '\n' && c != '\t' {
            true => char::REPLACEMENT_CHARACTER,
            false => c,
        })
        .collect();
    truncate(clean, MAX_TEXT_LEN)
}

/// The first `max` bytes of `text` at most, cut at a character boundary:
/// what a log line or an error quotes of a client's string.
pub fn clip(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Bytes of a client's string a log line or an error path quotes.
pub const QUOTED_LEN: usize = 64;

/// A map key as an error path quotes it: as is when it is a name, else
/// its first [`QUOTED_LEN`] bytes, escaped, then `…`.
pub fn quote_key(key: &str) -> std::borrow::Cow<'_, str> {
    if crate::validate::is_name(key) {
        return key.into();
    }
    let shown: String = clip(key, QUOTED_LEN).escape_debug().collect();
    match shown.len() < key.len() {
        true => format!("{shown}…").into(),
        false => shown.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_limits_fit_the_wire_limits() {
        use arqonbus_core::constraints as core;
        assert_eq!(core::MAX_PARAMETERS, MAX_PARAMETERS);
        assert_eq!(core::MAX_ENUM_VALUES, MAX_ENUM_VALUES);
        assert_eq!(core::MAX_VALUE_LEN, MAX_TEXT_LEN);
        assert!(core::MAX_NAME_LEN + "values_".len() <= MAX_NAME_LEN);
    }

    #[test]
    fn quoted_client_text_fits_and_is_clean() {
        let long = "é".repeat(2000);
        assert!(fit_text(&long).len() <= MAX_TEXT_LEN);
        assert_eq!(fit_text("a\u{7}b\nc"), "a\u{fffd}b\nc");
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(quote_key("latency_p99"), "latency_p99");
        let key = format!("a\r{}", "x".repeat(500));
        let odd = quote_key(&key);
        assert!(odd.starts_with("a\\r") && odd.ends_with('…') && odd.len() < 80);
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("héllo".into(), 2), "h");
        assert_eq!(truncate("héllo".into(), 3), "hé");
        assert_eq!(truncate("short".into(), 100), "short");
    }
}
