//! Parameter names a bare identifier cannot spell (`max-tokens`: `-` is
//! subtraction) are written in backticks.

use super::*;
use crate::constraint_file::parse_file;
use crate::value::ParamValue;
use std::collections::BTreeMap;

const FILE: &str = r#"
format = 2
[parameters.max-tokens]
kind = "int"
min = 256
max = 8192
default = 2048

[parameters.batch_size]
kind = "int"
min = 1
max = 256
default = 32

[[rules]]
name = "token_budget"
expr = "batch_size * `max-tokens` <= 131072"
"#;

#[test]
fn a_backticked_name_may_hold_a_dash() {
    let file = parse_file("c.toml", FILE).expect("the file loads");
    let rule = &file.policy.rules[0].compiled;
    assert!(rule.parameters.contains("max-tokens"));
    let values = |b: i64, m: i64| {
        BTreeMap::from([
            ("batch_size".to_string(), ParamValue::Int(b)),
            ("max-tokens".to_string(), ParamValue::Int(m)),
        ])
    };
    assert!(rule.holds(&values(32, 4096)));
    assert!(!rule.holds(&values(64, 4096)));
    assert_eq!(
        rule.range_of("batch_size", &values(64, 4096), (1.0, 256.0), true),
        Some((1.0, 32.0))
    );
    assert_eq!(
        rule.range_of("max-tokens", &values(64, 4096), (256.0, 8192.0), true),
        Some((256.0, 2048.0))
    );
}

#[test]
fn a_backticked_name_prints_as_it_parses() {
    for text in [
        "batch_size * `max-tokens` <= 131072",
        "`a-b` - `c.d-e` >= -1",
        "`plain` == 1",
    ] {
        let expr = parse(text).expect(text);
        let again = parse(&expr.to_string()).expect("its print parses");
        assert_eq!(again, expr, "{text} printed as {expr}");
    }
    assert_eq!(
        parse("`max-tokens` <= 1").expect("parses").to_string(),
        "(`max-tokens` <= 1)"
    );
}

#[test]
fn bad_backticks_are_refused_with_a_reason() {
    let cases = [
        ("`max-tokens <= 1", "not closed"),
        ("`` <= 1", "parameter name"),
        ("`max tokens` <= 1", "parameter name"),
    ];
    for (text, want) in cases {
        let e = parse(text).expect_err(text);
        assert!(e.message.contains(want), "{text}: {e}");
    }
    // Unquoted, the dash is a minus: the file says how to write the name.
    let bare = FILE.replace("`max-tokens`", "max-tokens");
    let e = parse_file("c.toml", &bare)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("backticks"), "{e}");
}
