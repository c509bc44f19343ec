//! [`Editor`]: the input line: its text and cursor, edited key by key.

/// The text being typed and where the cursor is (a count of characters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Editor {
    text: String,
    cursor: usize,
}

impl Editor {
    /// The text typed so far.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The cursor, in characters from the start.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    /// Replaces the text with `text`, the cursor at its end.
    pub(crate) fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = text.chars().count();
    }

    /// Takes the text out, leaving the line empty.
    pub(crate) fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Types `c` at the cursor (line breaks and other control characters are not typed).
    pub(crate) fn insert(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Deletes the character before the cursor.
    pub(crate) fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Deletes the character under the cursor.
    pub(crate) fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    /// Moves the cursor one character left.
    pub(crate) fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one character right.
    pub(crate) fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    /// Moves the cursor to the start.
    pub(crate) fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end.
    pub(crate) fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    /// The byte offset of character `chars`.
    fn byte_at(&self, chars: usize) -> usize {
        (self.text.char_indices().nth(chars)).map_or(self.text.len(), |(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_and_editing_move_the_cursor_by_characters() {
        let mut editor = Editor::default();
        for c in "héllo".chars() {
            editor.insert(c);
        }
        assert_eq!((editor.text(), editor.cursor()), ("héllo", 5));
        editor.left();
        editor.left();
        editor.backspace();
        assert_eq!((editor.text(), editor.cursor()), ("hélo", 2));
        editor.delete();
        assert_eq!(editor.text(), "héo");
        editor.home();
        editor.backspace();
        editor.insert('>');
        assert_eq!((editor.text(), editor.cursor()), (">héo", 1));
        editor.end();
        editor.right();
        editor.delete();
        editor.insert('\u{1b}');
        editor.insert('\n');
        editor.insert('a');
        assert_eq!((editor.text(), editor.cursor()), (">héoa", 5));
        assert_eq!(editor.take(), ">héoa");
        assert!(editor.text().is_empty());
        assert_eq!(editor.cursor(), 0);
        editor.set("/reply 1a2b ");
        assert_eq!(editor.cursor(), 12);
    }
}
