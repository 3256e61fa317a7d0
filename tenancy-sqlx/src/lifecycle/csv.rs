//! CSV records as an export writes and reads them (RFC 4180, with `\n` or
//! `\r\n` between records): every value is quoted, so an unquoted empty
//! field is SQL NULL and a quoted empty one is the empty string.

use std::io::{self, BufRead};

/// One record of `fields`, without the line end.
pub(crate) fn record(fields: &[Option<String>]) -> String {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if let Some(text) = field {
            line.push('"');
            line.push_str(&text.replace('"', "\"\""));
            line.push('"');
        }
    }
    line
}

/// Reads records one at a time (a quoted field may span lines), never the
/// whole file.
pub(crate) struct Records<R> {
    input: R,
    record: u64,
}

impl<R: BufRead> Records<R> {
    pub(crate) fn new(input: R) -> Self {
        Records { input, record: 0 }
    }

    /// The next record, `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> io::Result<Option<Vec<Option<String>>>> {
        let mut fields = Vec::new();
        let mut field: Vec<u8> = Vec::new();
        let mut quoted = false;
        let mut in_quotes = false;
        let mut started = false;
        let mut line = Vec::new();
        loop {
            line.clear();
            if self.input.read_until(b'\n', &mut line)? == 0 {
                if in_quotes {
                    return Err(self.invalid("a quoted field is not closed"));
                }
                if !started {
                    return Ok(None);
                }
                fields.push(self.finish(&mut field, quoted)?);
                return Ok(Some(fields));
            }
            started = true;
            let mut bytes = line.iter().copied().peekable();
            while let Some(byte) = bytes.next() {
                if in_quotes {
                    match byte {
                        b'"' if bytes.peek() == Some(&b'"') => {
                            bytes.next();
                            field.push(b'"');
                        }
                        b'"' => in_quotes = false,
                        other => field.push(other),
                    }
                    continue;
                }
                match byte {
                    b'"' if field.is_empty() && !quoted => {
                        quoted = true;
                        in_quotes = true;
                    }
                    b',' => {
                        fields.push(self.finish(&mut field, quoted)?);
                        quoted = false;
                    }
                    b'\r' if bytes.peek() == Some(&b'\n') => {}
                    b'\n' => {
                        fields.push(self.finish(&mut field, quoted)?);
                        self.record += 1;
                        return Ok(Some(fields));
                    }
                    _ if quoted => {
                        return Err(self.invalid("text after a quoted field's closing quote"));
                    }
                    other => field.push(other),
                }
            }
        }
    }

    fn finish(&self, field: &mut Vec<u8>, quoted: bool) -> io::Result<Option<String>> {
        let bytes = std::mem::take(field);
        if bytes.is_empty() && !quoted {
            return Ok(None);
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| self.invalid("a field is not UTF-8"))
    }

    fn invalid(&self, what: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("CSV record {}: {what}", self.record + 1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> io::Result<Vec<Vec<Option<String>>>> {
        let mut records = Records::new(text.as_bytes());
        let mut all = Vec::new();
        while let Some(record) = records.next_record()? {
            all.push(record);
        }
        Ok(all)
    }

    #[test]
    fn every_value_survives_a_round_trip() -> io::Result<()> {
        let fields = vec![
            Some("plain".to_owned()),
            None,
            Some(String::new()),
            Some("a \"quote\", a comma\nand a line".to_owned()),
            Some("\r\n".to_owned()),
        ];
        let text = format!("{}\n{}\n", record(&fields), record(&fields));
        assert_eq!(read_all(&text)?, vec![fields.clone(), fields]);
        Ok(())
    }

    #[test]
    fn null_and_the_empty_string_differ() {
        assert_eq!(record(&[None, Some(String::new())]), ",\"\"");
    }

    #[test]
    fn crlf_records_and_a_last_record_without_a_line_end_are_read() -> io::Result<()> {
        let all = read_all("\"a\",1\r\n\"b\",")?;
        assert_eq!(
            all,
            vec![
                vec![Some("a".to_owned()), Some("1".to_owned())],
                vec![Some("b".to_owned()), None],
            ]
        );
        Ok(())
    }

    #[test]
    fn malformed_records_are_refused_with_their_number() {
        for (text, what) in [
            ("\"a\"\n\"open", "record 2: a quoted field is not closed"),
            (
                "\"a\"x\n",
                "record 1: text after a quoted field's closing quote",
            ),
        ] {
            let error = read_all(text).err().map(|e| e.to_string());
            assert!(
                error.as_deref().is_some_and(|e| e.contains(what)),
                "{text:?}: {error:?}"
            );
        }
    }
}
