//! Bounding text that came from a request before it is parsed or stored.

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn clip(text: &str, max: usize) -> &str {
    &text[..text.floor_char_boundary(max)]
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clipping_never_splits_a_character() {
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("abc", 9), "abc");
        assert_eq!(clip("éé", 3), "é");
    }
}
