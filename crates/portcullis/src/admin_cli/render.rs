//! Human-readable output: a table for lists, `key: value` lines for one object.

use serde_json::Value;

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(|i| cell(Some(i))).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

/// A table for lists, `key: value` lines for one object.
pub fn render(value: &Value, columns: &[&str]) -> String {
    let rows: Option<&Vec<Value>> = value
        .get("items")
        .or_else(|| value.get("attributes").filter(|_| columns.first() == Some(&"name")))
        .and_then(Value::as_array)
        .or_else(|| value.as_array());
    let mut out = String::new();
    match rows {
        // A list of texts (relationship tuples): one per line.
        Some(rows) if rows.iter().all(Value::is_string) && !rows.is_empty() => {
            for row in rows {
                out.push_str(&format!("{}\n", cell(Some(row))));
            }
            if let Some(cursor) = value.get("next_cursor").and_then(Value::as_str) {
                out.push_str(&format!("(more: --cursor {cursor})\n"));
            }
        }
        Some(rows) if !columns.is_empty() => {
            let table: Vec<Vec<String>> =
                rows.iter().map(|row| columns.iter().map(|c| cell(row.get(*c))).collect()).collect();
            let widths: Vec<usize> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| table.iter().map(|r| r[i].chars().count()).chain([c.len()]).max().unwrap_or(0))
                .collect();
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_owned()
                    + "\n"
            };
            out.push_str(&line(columns.iter().map(|c| c.to_uppercase()).collect()));
            for row in table {
                out.push_str(&line(row));
            }
            if let Some(cursor) = value.get("next_cursor").and_then(Value::as_str) {
                out.push_str(&format!("(more: --cursor {cursor})\n"));
            }
        }
        _ => match value.as_object() {
            Some(object) => {
                for (key, v) in object {
                    out.push_str(&format!("{key}: {}\n", if v.is_object() { v.to_string() } else { cell(Some(v)) }));
                }
            }
            None => out.push_str(&format!("{value}\n")),
        },
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_tables_and_objects() {
        let list = json!({"items": [{"name": "acme", "profile": "customer"}, {"name": "admin", "profile": "workforce"}], "next_cursor": "abc"});
        let table = render(&list, &["name", "profile"]);
        assert_eq!(table, "NAME   PROFILE\nacme   customer\nadmin  workforce\n(more: --cursor abc)\n");
        let one = render(&json!({"id": "1", "tags": ["a", "b"], "x": null}), &["id"]);
        assert_eq!(one, "id: 1\ntags: a,b\nx: -\n");
    }
}
