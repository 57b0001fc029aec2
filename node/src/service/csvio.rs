//! Contact CSV in and out. Chinese spreadsheets export GBK (GB18030) or
//! UTF-8 with a BOM; both are read, told apart by whether the bytes are
//! valid UTF-8. Headers are matched in English or Chinese (`name`/`姓名`,
//! `phone`/`手机`/`电话`, `unit`/`单位`/`部门`, `title`/`职务`, `tags`/`标签`,
//! `notes`/`备注`). A line with a bad number or no name is reported by its
//! line number and left out; the other lines are imported. It must never
//! import part of a line.

use serde::Serialize;
use smsgw_state::book::{Contact, ContactData, ContactRow};

use super::tokens::contact_tokens;

/// A line that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// Line number in the file (1 is the header).
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// A file read for import.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The encoding it was read in (`utf-8` or `gbk`).
    pub encoding: &'static str,
    /// Good lines: (line number, row).
    pub rows: Vec<(u64, ContactRow)>,
    /// Bad lines.
    pub errors: Vec<LineError>,
}

/// `bytes` as text: UTF-8 (a BOM dropped) when valid, else GB18030, the
/// superset of GBK that Windows' "ANSI" Chinese files are.
pub fn decode_text(bytes: &[u8]) -> (String, &'static str) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), "utf-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::GB18030.decode(bytes);
            (text.into_owned(), "gbk")
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Phone,
    Unit,
    Title,
    Tags,
    Notes,
}

fn field(header: &str) -> Option<Field> {
    let h = header.trim().to_lowercase();
    Some(match h.as_str() {
        "name" | "姓名" | "名字" => Field::Name,
        "phone" | "phones" | "mobile" | "number" | "手机" | "手机号" | "手机号码" | "电话" | "号码" => {
            Field::Phone
        }
        "unit" | "department" | "单位" | "部门" => Field::Unit,
        "title" | "职务" | "职位" => Field::Title,
        "tags" | "tag" | "标签" => Field::Tags,
        "notes" | "note" | "备注" => Field::Notes,
        _ => return None,
    })
}

fn split_list(cell: &str) -> Vec<String> {
    cell.split([';', '；', ',', '，', '、', '/', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A phone number as the book keeps it, or why it is not one.
pub fn phone(raw: &str) -> Result<String, String> {
    let cleaned: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if crate::api::submit::valid_number(&cleaned) {
        Ok(smsgw_config::normalize_number(&cleaned))
    } else {
        Err(format!(
            "`{}` is not a phone number",
            raw.chars().take(40).collect::<String>()
        ))
    }
}

/// Reads a contact CSV.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let (text, encoding) = decode_text(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the header line cannot be read: {e}"))?;
    let columns: Vec<Option<Field>> = headers.iter().map(field).collect();
    if !columns.contains(&Some(Field::Name)) || !columns.contains(&Some(Field::Phone)) {
        return Err("the header line must name a `name` (姓名) and a `phone` (手机) column".into());
    }
    let mut out = Parsed {
        encoding,
        ..Default::default()
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                out.errors.push(LineError {
                    line,
                    message: format!("unreadable: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut data = ContactData::default();
        let mut bad = None;
        for (cell, col) in record.iter().zip(&columns) {
            match col {
                Some(Field::Name) => data.name = cell.to_string(),
                Some(Field::Phone) => {
                    for p in split_list(cell) {
                        match phone(&p) {
                            Ok(n) if !data.phones.contains(&n) => data.phones.push(n),
                            Ok(_) => {}
                            Err(e) => bad = Some(e),
                        }
                    }
                }
                Some(Field::Unit) => data.unit = cell.to_string(),
                Some(Field::Title) => data.title = cell.to_string(),
                Some(Field::Tags) => data.tags = split_list(cell),
                Some(Field::Notes) => data.notes = cell.to_string(),
                None => {}
            }
        }
        let problem = match (bad, data.name.is_empty(), data.phones.is_empty()) {
            (Some(e), _, _) => Some(e),
            (None, true, _) => Some("no name".to_string()),
            (None, false, true) => Some("no phone number".to_string()),
            _ => None,
        };
        match problem {
            Some(message) => out.errors.push(LineError { line, message }),
            None => {
                let tokens = contact_tokens(&data);
                out.rows.push((line, ContactRow { data, tokens }));
            }
        }
    }
    Ok(out)
}

/// Contacts as CSV (UTF-8 with a BOM, so spreadsheets open it as UTF-8),
/// the same columns the import reads.
pub fn export(contacts: &[Contact]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(["id", "name", "phone", "unit", "title", "tags", "notes"])?;
    for c in contacts {
        let d = &c.data;
        w.write_record([
            c.id.to_string().as_str(),
            &d.name,
            &d.phones.join(";"),
            &d.unit,
            &d.title,
            &d.tags.join(";"),
            &d.notes,
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gbk_file_is_read_and_a_bad_line_is_reported_by_number_and_skipped() {
        let text = "姓名,手机,单位,标签\n张伟,138 0013 8000,应急办,值班；领导\n李娜,12ab,应急办,\n王芳,+8613900139000,消防队,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let p = parse(&gbk).unwrap();
        assert_eq!(p.encoding, "gbk");
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0].1.data.phones, vec!["13800138000"]);
        assert_eq!(p.rows[0].1.data.tags, vec!["值班", "领导"]);
        assert_eq!(p.rows[1].1.data.phones, vec!["13900139000"]);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].line, 3);
        let back = parse(
            &export(&[Contact {
                id: 1,
                data: p.rows[0].1.data.clone(),
                tokens: vec![],
                updated_ms: 0,
            }])
            .unwrap(),
        )
        .unwrap();
        assert_eq!(back.encoding, "utf-8");
        assert_eq!(back.rows[0].1.data, p.rows[0].1.data);
    }
}
