//! Exit codes and plain-text layout.

/// How a command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: clean, or every target where it should be.
    Clean,
    /// 1: findings to fix, or targets that failed or were not reached.
    Findings,
    /// 2: the command could not do its work.
    Error,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Error => 2,
        }
    }
}

/// Lines of at most [`WIDTH`] columns: the first indented by `first`, the
/// others by `rest`. Words longer than a line (SQL, names) stay whole.
pub fn wrap(text: &str, first: usize, rest: usize) -> String {
    const WIDTH: usize = 100;
    let mut out = String::new();
    let mut line = " ".repeat(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        let fits = line.len() + 1 + word.len() <= WIDTH;
        if !empty && !fits {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_word_boundaries_with_hanging_indents() {
        let text = "word ".repeat(30);
        let wrapped = wrap(&text, 2, 4);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("  word"));
        assert!(lines[1].starts_with("    word"));
        assert!(lines.iter().all(|line| line.len() <= 100));
        assert_eq!(wrap("", 2, 2), "\n");
    }
}
