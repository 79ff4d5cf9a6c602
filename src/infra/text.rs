//! Text: bounding what came from a request before it is parsed or stored,
//! and starting a message with a capital.

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn clip(text: &str, max: usize) -> &str {
    &text[..text.floor_char_boundary(max)]
}

/// The text with its first letter in upper case, for a message that starts
/// a sentence.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{capitalised, clip};

    #[test]
    fn clipping_never_splits_a_character() {
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("abc", 9), "abc");
        assert_eq!(clip("éé", 3), "é");
    }

    #[test]
    fn a_message_starts_with_a_capital() {
        assert_eq!(capitalised("the database"), "The database");
        assert_eq!(capitalised("élan"), "Élan");
        assert_eq!(capitalised(""), "");
    }
}
