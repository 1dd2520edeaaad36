//! `text/csv` answers (RFC 4180): a header row and data rows, CRLF line
//! ends, fields quoted when they hold a comma, a quote or a line break.
//!
//! A text field that a spreadsheet would read as a formula (one starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with
//! `'`, so user-supplied names cannot run as formulas; numbers such as
//! `-0.5` are left as they are.

use crate::Response;

/// The media type of a CSV answer.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// 200 with `rows` under `header` as CSV, offered for download as
/// `filename`.
pub fn csv_response(filename: &str, header: &[&str], rows: &[Vec<String>]) -> Response {
    let mut body = String::new();
    push_row(&mut body, header.iter().copied());
    for row in rows {
        push_row(&mut body, row.iter().map(String::as_str));
    }
    Response {
        status: 200,
        headers: vec![
            ("content-type".into(), CSV_CONTENT_TYPE.into()),
            (
                "content-disposition".into(),
                format!(
                    "attachment; filename=\"{}\"",
                    filename.replace(|c: char| !c.is_ascii_graphic() || c == '"', "_")
                ),
            ),
        ],
        body: body.into_bytes(),
    }
}

fn push_row<'a>(body: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (n, field) in fields.enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&cell(field));
    }
    body.push_str("\r\n");
}

/// One field, made safe and quoted as needed.
fn cell(field: &str) -> String {
    let number = field.parse::<f64>().is_ok() && !field.contains(['\t', '\r', '\n', ' ']);
    let formula = !number && field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let field = if formula {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_crlf_separated_and_special_fields_quoted() {
        let r = csv_response(
            "events.csv",
            &["id", "name"],
            &[
                vec!["evt_1".into(), "a, \"b\"".into()],
                vec!["evt_2".into(), "line\nbreak".into()],
            ],
        );
        assert_eq!(r.header("content-type"), Some(CSV_CONTENT_TYPE));
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "id,name\r\nevt_1,\"a, \"\"b\"\"\"\r\nevt_2,\"line\nbreak\"\r\n"
        );
    }

    #[test]
    fn formulas_are_defused_and_negative_numbers_kept() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("@cmd"), "'@cmd");
        assert_eq!(cell("-0.4985"), "-0.4985");
        assert_eq!(cell("+1"), "+1");
        assert_eq!(cell("-x"), "'-x");
    }
}
