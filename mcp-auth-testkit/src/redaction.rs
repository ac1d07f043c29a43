//! Checks that secrets never reach `Debug` output.

/// Asserts that neither `{:?}` nor `{:#?}` of `value` contains any of
/// `markers` (secret values a test put into it); `what` names the value in
/// the failure message.
pub fn assert_debug_redacted(what: &str, value: &impl std::fmt::Debug, markers: &[&str]) {
    for shown in [format!("{value:?}"), format!("{value:#?}")] {
        for marker in markers {
            assert!(
                !shown.contains(marker),
                "{what} prints the secret {marker:?}: {shown}"
            );
        }
    }
}
