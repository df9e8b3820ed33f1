//! Where a problem is in the file: a JSON pointer for JSON, a line number
//! for TOML (found by walking the table headers and keys the pointer
//! names; the nearest enclosing line when the exact key is absent).

/// `/parameters/batch_size/min`, escaped per RFC 6901.
pub fn pointer(segments: &[String]) -> String {
    if segments.is_empty() {
        return "/".into();
    }
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The 1-based line of what `segments` names in TOML `text`.
pub fn toml_line(text: &str, segments: &[String]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let header = |l: &str| l.trim_start().starts_with('[');
    let key_line = |from: usize, key: &str| -> Option<usize> {
        lines
            .iter()
            .enumerate()
            .skip(from + 1)
            .take_while(|(_, l)| !header(l))
            .find(|(_, l)| {
                let t = l.trim_start();
                let t = t.strip_prefix('"').unwrap_or(t);
                t.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with(['=', '"']))
            })
            .map(|(i, _)| i)
    };
    let find_header = |want: &dyn Fn(&str) -> bool, nth: usize| -> Option<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| want(l.trim()))
            .nth(nth)
            .map(|(i, _)| i)
    };
    let found = match segments {
        [] => None,
        [key] => find_header(&|l| l == format!("[{key}]") || l == format!("[[{key}]]"), 0).or_else(
            || {
                lines
                    .iter()
                    .position(|l| l.trim_start().starts_with(key.as_str()))
            },
        ),
        [table, name, rest @ ..] if table == "parameters" => {
            let h = find_header(
                &|l| l == format!("[parameters.{name}]") || l == format!("[parameters.\"{name}\"]"),
                0,
            );
            match (h, rest.first()) {
                (Some(h), Some(key)) => key_line(h, key).or(Some(h)),
                (h, _) => h,
            }
        }
        [table, index, rest @ ..] if index.parse::<usize>().is_ok() => {
            let n = index.parse::<usize>().unwrap_or(0);
            let h = find_header(&|l| l == format!("[[{table}]]"), n);
            match (h, rest.first()) {
                (Some(h), Some(key)) => key_line(h, key).or(Some(h)),
                (None, _) => lines
                    .iter()
                    .position(|l| l.trim_start().starts_with(table.as_str())),
                (h, None) => h,
            }
        }
        [table, key, ..] => {
            let h = find_header(&|l| l == format!("[{table}]"), 0);
            match h {
                Some(h) => key_line(h, key).or(Some(h)),
                None => None,
            }
        }
    };
    found.map(|i| i + 1)
}
