//! What a rule allows one parameter to be, the others held: one table.

use super::Compiled;
use crate::constraint_file::parse;
use crate::value::ParamValue;
use std::collections::BTreeMap;

const SET: &str = r#"
[parameters.batch_size]
kind = "int"
min = 1
max = 256
default = 32

[parameters.max_tokens]
kind = "int"
min = 256
max = 8192
default = 2048

[parameters.temperature]
kind = "float"
min = 0.0
max = 2.0
default = 0.7

[parameters.speculative_decoding]
kind = "bool"
default = true
"#;

/// (rule, parameter, its hard range and kind, the others' values,
/// what the rule allows it)
type Case = (
    &'static str,
    &'static str,
    (f64, f64, bool),
    Vec<(&'static str, ParamValue)>,
    Option<(f64, f64)>,
);

#[test]
fn the_range_a_rule_allows_one_parameter() {
    use ParamValue::*;
    let int = (1.0, 256.0, true);
    let tokens = (256.0, 8192.0, true);
    let float = (0.0, 2.0, false);
    let below_one = f64::from_bits(1.0f64.to_bits() - 1);
    let cases: Vec<Case> = vec![
        (
            "batch_size * max_tokens <= 131072",
            "batch_size",
            int,
            vec![("max_tokens", Int(4096))],
            Some((1.0, 32.0)),
        ),
        (
            "batch_size * max_tokens <= 131072",
            "max_tokens",
            tokens,
            vec![("batch_size", Int(64))],
            Some((256.0, 2048.0)),
        ),
        (
            "batch_size * max_tokens <= 131072",
            "batch_size",
            int,
            vec![("max_tokens", Int(3000))],
            Some((1.0, 43.0)),
        ),
        (
            "max_tokens * batch_size >= 4096",
            "batch_size",
            int,
            vec![("max_tokens", Int(1000))],
            Some((5.0, 256.0)),
        ),
        (
            "batch_size + max_tokens < 300",
            "batch_size",
            int,
            vec![("max_tokens", Int(256))],
            Some((1.0, 43.0)),
        ),
        (
            "100 - batch_size >= 60",
            "batch_size",
            int,
            vec![],
            Some((1.0, 40.0)),
        ),
        (
            "-(batch_size) * 2 > -20",
            "batch_size",
            int,
            vec![],
            Some((1.0, 9.0)),
        ),
        (
            "temperature < 1.0",
            "temperature",
            float,
            vec![],
            Some((0.0, below_one)),
        ),
        (
            "2 * temperature + 0.5 >= 1.5",
            "temperature",
            float,
            vec![],
            Some((0.5, 2.0)),
        ),
        (
            "speculative_decoding == true => temperature <= 1.0",
            "temperature",
            float,
            vec![("speculative_decoding", Bool(true))],
            Some((0.0, 1.0)),
        ),
        (
            "batch_size >= 8 && batch_size <= 64",
            "batch_size",
            int,
            vec![],
            Some((8.0, 64.0)),
        ),
        (
            "batch_size == 16",
            "batch_size",
            int,
            vec![],
            Some((16.0, 16.0)),
        ),
        // Nothing in the hard range satisfies it.
        (
            "batch_size * max_tokens <= 100",
            "batch_size",
            int,
            vec![("max_tokens", Int(4096))],
            None,
        ),
        // Not an interval, or not linear in the parameter: no range.
        ("batch_size != 16", "batch_size", int, vec![], None),
        (
            "batch_size * batch_size <= 100",
            "batch_size",
            int,
            vec![],
            None,
        ),
        (
            "batch_size <= 4 || batch_size >= 100",
            "batch_size",
            int,
            vec![],
            None,
        ),
        // A side the parameter is absent from is decided by the others.
        (
            "batch_size <= 4 || max_tokens <= 512",
            "batch_size",
            int,
            vec![("max_tokens", Int(4096))],
            Some((1.0, 4.0)),
        ),
        (
            "batch_size <= 4 => max_tokens <= 512",
            "batch_size",
            int,
            vec![("max_tokens", Int(4096))],
            Some((5.0, 256.0)),
        ),
        (
            "!(batch_size > 8)",
            "batch_size",
            int,
            vec![],
            Some((1.0, 8.0)),
        ),
        (
            "!(batch_size < 8 || batch_size > 64)",
            "batch_size",
            int,
            vec![],
            Some((8.0, 64.0)),
        ),
    ];
    let set = parse("c.toml", SET).expect("parses");
    for (rule, parameter, (min, max, integer), others, want) in cases {
        let compiled = Compiled::compile(rule, &set).expect(rule);
        let values: BTreeMap<String, ParamValue> = others
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let got = compiled.range_of(parameter, &values, (min, max), integer);
        assert_eq!(got, want, "{rule} for {parameter}");
    }
}
