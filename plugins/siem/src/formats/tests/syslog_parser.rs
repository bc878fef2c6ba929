//! A strict RFC 5424 parser written from the RFC's ABNF (section 6), for tests.
//!
//! ```text
//! SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG]
//! HEADER     = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
//! PRI        = "<" PRIVAL ">"             ; PRIVAL 0..191
//! HOSTNAME   = NILVALUE / 1*255PRINTUSASCII, APP-NAME 1*48, PROCID 1*128, MSGID 1*32
//! SD-ELEMENT = "[" SD-ID *(SP SD-PARAM) "]" ; SD-NAME = 1*32 PRINTUSASCII except = SP ] "
//! SD-PARAM   = PARAM-NAME "=" %d34 PARAM-VALUE %d34 ; '"' '\' ']' escaped with '\'
//! ```
//! A backslash before any other character is a literal backslash (section 6.3.3).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syslog {
    pub facility: u8,
    pub severity: u8,
    pub timestamp: Option<String>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub procid: Option<String>,
    pub msgid: Option<String>,
    pub sd: Vec<(String, Vec<(String, String)>)>,
    pub msg: Option<String>,
}

impl Syslog {
    /// A parameter of the first element with this SD-ID.
    pub fn param(&self, id: &str, name: &str) -> Option<&str> {
        let (_, params) = self.sd.iter().find(|(i, _)| i == id)?;
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Cursor<'a> {
    s: &'a str,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, prefix: &str) -> Result<(), String> {
        self.s = self
            .s
            .strip_prefix(prefix)
            .ok_or_else(|| format!("expected {prefix:?} at {:?}", self.s))?;
        Ok(())
    }

    /// A header field up to the next space: NILVALUE or 1..=max PRINTUSASCII.
    fn field(&mut self, max: usize) -> Result<Option<String>, String> {
        let end = self.s.find(' ').ok_or("header ends early")?;
        let f = &self.s[..end];
        self.s = &self.s[end + 1..];
        if f == "-" {
            return Ok(None);
        }
        if f.is_empty() || f.len() > max || !f.bytes().all(|b| (33..=126).contains(&b)) {
            return Err(format!("bad header field {f:?}"));
        }
        Ok(Some(f.to_owned()))
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// FULL-DATE "T" PARTIAL-TIME TIME-OFFSET with at most 6 fraction digits.
pub fn valid_timestamp(t: &str) -> bool {
    let Some((date, time)) = t.split_once('T') else {
        return false;
    };
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 || !digits(d[0], 4) || !digits(d[1], 2) || !digits(d[2], 2) {
        return false;
    }
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => return false,
    };
    let offset_ok = offset == "Z"
        || (offset.len() == 6
            && digits(&offset[1..3], 2)
            && &offset[3..4] == ":"
            && digits(&offset[4..], 2));
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (clock, None),
    };
    let h: Vec<&str> = hms.split(':').collect();
    let hms_ok = h.len() == 3 && h.iter().all(|p| digits(p, 2)) && h[2] < "60";
    let frac_ok =
        frac.is_none_or(|f| (1..=6).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
    offset_ok && hms_ok && frac_ok
}

fn sd_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| (33..=126).contains(&b) && !matches!(b, b'=' | b']' | b'"'))
}

pub fn parse(line: &str) -> Result<Syslog, String> {
    if line.contains(['\n', '\r']) {
        return Err("raw line break".into());
    }
    let mut c = Cursor { s: line };
    c.eat("<")?;
    let close = c.s.find('>').ok_or("no >")?;
    let prival = &c.s[..close];
    if prival.is_empty() || prival.len() > 3 || (prival.len() > 1 && prival.starts_with('0')) {
        return Err(format!("PRIVAL {prival:?}"));
    }
    let pri: u8 = prival.parse().map_err(|_| "PRIVAL")?;
    if pri > 191 {
        return Err(format!("PRIVAL {pri}"));
    }
    c.s = &c.s[close + 1..];
    c.eat("1 ")?;
    let timestamp = c.field(64)?;
    if let Some(t) = &timestamp
        && !valid_timestamp(t)
    {
        return Err(format!("TIMESTAMP {t:?}"));
    }
    let hostname = c.field(255)?;
    let app_name = c.field(48)?;
    let procid = c.field(128)?;
    let msgid = c.field(32)?;
    let mut sd = Vec::new();
    if let Some(rest) = c.s.strip_prefix('-') {
        c.s = rest;
    } else {
        while c.s.starts_with('[') {
            sd.push(element(&mut c)?);
        }
        if sd.is_empty() {
            return Err("no STRUCTURED-DATA".into());
        }
    }
    let msg = match c.s {
        "" => None,
        rest => Some(rest.strip_prefix(' ').ok_or("no SP before MSG")?.to_owned()),
    };
    Ok(Syslog {
        facility: pri / 8,
        severity: pri % 8,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd,
        msg,
    })
}

fn element(c: &mut Cursor<'_>) -> Result<(String, Vec<(String, String)>), String> {
    c.eat("[")?;
    let end = c.s.find([' ', ']']).ok_or("unterminated SD-ELEMENT")?;
    let id = c.s[..end].to_owned();
    if !sd_name(id.split_once('@').map_or(&id, |(n, _)| n)) || id.len() > 32 {
        return Err(format!("SD-ID {id:?}"));
    }
    c.s = &c.s[end..];
    let mut params = Vec::new();
    while let Some(rest) = c.s.strip_prefix(' ') {
        let eq = rest.find('=').ok_or("PARAM without =")?;
        let name = &rest[..eq];
        if !sd_name(name) {
            return Err(format!("PARAM-NAME {name:?}"));
        }
        c.s = &rest[eq + 1..];
        c.eat("\"")?;
        let mut value = String::new();
        let mut chars = c.s.char_indices();
        let close = loop {
            match chars.next() {
                None => return Err("unterminated PARAM-VALUE".into()),
                Some((i, '"')) => break i,
                Some((_, ']')) => return Err("unescaped ] in PARAM-VALUE".into()),
                Some((_, '\\')) => match chars.next() {
                    Some((_, e @ ('"' | '\\' | ']'))) => value.push(e),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => return Err("PARAM-VALUE ends in a backslash".into()),
                },
                Some((_, ch)) => value.push(ch),
            }
        };
        c.s = &c.s[close + 1..];
        params.push((name.to_owned(), value));
    }
    c.eat("]")?;
    Ok((id, params))
}

#[test]
fn parser_reads_the_rfc_examples() {
    let m = parse(r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry..."#).expect("parse");
    assert_eq!((m.facility, m.severity), (20, 5));
    assert_eq!(m.param("exampleSDID@32473", "eventID"), Some("1011"));
    assert_eq!(m.msg.as_deref(), Some("An application event log entry..."));
    let m = parse(r#"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."#).expect("parse");
    assert!(m.sd.is_empty() && m.msgid.is_none());
    let m = parse(r#"<165>1 2003-10-11T22:14:15.003Z host app - - [a@1 x="q\"\\\]\n"][b@2]"#)
        .expect("parse");
    assert_eq!(m.param("a@1", "x"), Some("q\"\\]\\n"));
    assert_eq!(m.sd.len(), 2);
    assert!(m.msg.is_none());
    assert!(parse("<192>1 - - - - - -").is_err());
    assert!(parse("<13>1 2003-10-11T22:14:15.0000003Z h a - - -").is_err());
    assert!(parse(r#"<13>1 - h a - - [a@1 x="]"]"#).is_err());
    assert!(parse("<13>1 - h a - - - ").is_ok_and(|m| m.msg.as_deref() == Some("")));
}
