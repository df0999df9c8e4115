//! LogHub's header layouts (`<Date> <Time> <Level> <Component>: <Content>`) as regular
//! expressions, as the benchmark's own tools read them: each `<Field>` matches lazily, runs of
//! spaces match runs of whitespace, and the rest is a regular expression as written (`\[` is a
//! bracket, `(…)?` an optional part). And a small CSV reader for the label files.

use anyhow::Context;
use regex::Regex;

/// A compiled layout.
#[derive(Debug, Clone)]
pub struct Layout {
    re: Regex,
}

impl Layout {
    /// Compiles a layout; it must have a `<Content>` field.
    pub fn parse(layout: &str) -> anyhow::Result<Self> {
        let field = Regex::new(r"<([A-Za-z_][A-Za-z0-9_]*)>")?;
        let spaces = Regex::new(r" +")?;
        let mut pattern = String::from("^");
        let mut last = 0;
        let mut has_content = false;
        for m in field.captures_iter(layout) {
            let (Some(whole), Some(name)) = (m.get(0), m.get(1)) else {
                continue;
            };
            pattern.push_str(&spaces.replace_all(&layout[last..whole.start()], r"\s+"));
            has_content |= name.as_str() == "Content";
            pattern.push_str(&format!("(?P<{}>.*?)", name.as_str()));
            last = whole.end();
        }
        pattern.push_str(&spaces.replace_all(&layout[last..], r"\s+"));
        pattern.push('$');
        if !has_content {
            anyhow::bail!("the layout {layout:?} has no <Content> field");
        }
        let re = Regex::new(&pattern).with_context(|| format!("the layout {layout:?}"))?;
        Ok(Self { re })
    }

    /// The content of `line`, when the line matches the layout.
    pub fn content<'a>(&self, line: &'a str) -> Option<&'a str> {
        let line = line.trim();
        self.re
            .captures(line)
            .and_then(|c| c.name("Content"))
            .map(|m| m.as_str())
    }
}

/// The records of a CSV text: fields split on commas, quoted fields (`"a, ""b"""`) unquoted.
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_split_off_the_content() -> anyhow::Result<()> {
        let l = Layout::parse(r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>")?;
        assert_eq!(
            l.content(
                "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; uid=0 "
            ),
            Some("authentication failure; uid=0")
        );
        assert_eq!(
            l.content("Jun 15 04:06:18 combo su(pam_unix): session opened"),
            Some("session opened")
        );
        let l = Layout::parse(r"<Time>\|<Component>\|<Pid>\|<Content>")?;
        assert_eq!(
            l.content("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579"),
            Some("onStandStepChanged 3579")
        );
        assert!(Layout::parse("<Date> <Time>").is_err());
        Ok(())
    }

    #[test]
    fn csv_quotes_are_undone() {
        let r = csv_records("a,b\n1,\"x, \"\"y\"\"\"\n2,z");
        assert_eq!(
            r,
            vec![vec!["a", "b"], vec!["1", "x, \"y\""], vec!["2", "z"]]
        );
    }
}
