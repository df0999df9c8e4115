use super::*;
use proptest::prelude::*;

fn ok(q: &str) -> String {
    match parse(q) {
        Ok(e) => e.to_string(),
        Err(e) => panic!("{q}: {}", e.render(q)),
    }
}

fn err(q: &str) -> String {
    match parse(q) {
        Ok(e) => panic!("{q} parsed as {e}"),
        Err(e) => e.render(q),
    }
}

#[test]
fn precedence_and_associativity() {
    let bin = |q: &str| match parse(q).unwrap() {
        Expr::Binary(b) => (b.lhs.to_string(), b.op.to_string(), b.rhs.to_string()),
        e => panic!("{e:?}"),
    };
    assert_eq!(bin("a + b * c"), ("a".into(), "+".into(), "b * c".into()));
    assert_eq!(bin("a - b - c"), ("a - b".into(), "-".into(), "c".into()));
    assert_eq!(bin("a ^ b ^ c"), ("a".into(), "^".into(), "b ^ c".into()));
    assert_eq!(
        bin("a or b and c"),
        ("a".into(), "or".into(), "b and c".into())
    );
    assert_eq!(bin("a == b + c"), ("a".into(), "==".into(), "b + c".into()));
    assert_eq!(bin("-a * b"), ("-a".into(), "*".into(), "b".into()));
    assert!(matches!(parse("-a ^ b").unwrap(), Expr::Unary(_)));
    assert_eq!(
        bin("a atan2 b + c"),
        ("a atan2 b".into(), "+".into(), "c".into())
    );
    assert_eq!(
        bin("a + b offset 5m"),
        ("a".into(), "+".into(), "b offset 5m".into())
    );
}

#[test]
fn literals_and_selectors() {
    assert!(matches!(parse("-1").unwrap(), Expr::NumberLiteral(n) if n.val == -1.0));
    assert!(matches!(parse("0x10").unwrap(), Expr::NumberLiteral(n) if n.val == 16.0));
    assert!(matches!(parse("inF").unwrap(), Expr::NumberLiteral(n) if n.val.is_infinite()));
    assert_eq!(ok(r#"foo{a="b", c=~"d.*",}"#), r#"foo{a="b",c=~"d.*"}"#);
    assert_eq!(ok("rate(foo[5m] offset -1m)"), "rate(foo[5m] offset -1m)");
    assert_eq!(ok("foo @ 100"), "foo @ 100.000");
    assert_eq!(ok("foo @ start()"), "foo @ start()");
    assert_eq!(ok("sum by (a) (x)"), "sum by (a) (x)");
    assert_eq!(ok("sum(x) without (a)"), "sum without (a) (x)");
    assert_eq!(ok("topk(3, x)"), "topk(3, x)");
    assert_eq!(ok("count_values(\"v\", x)"), "count_values(\"v\", x)");
    assert_eq!(ok("x[1h:5m]"), "x[1h:5m]");
    assert_eq!(ok("x[1h:]"), "x[1h:]");
    assert_eq!(
        ok("a / on(b) group_left(c) d"),
        "a / on (b) group_left (c) d"
    );
    assert_eq!(ok("a > bool b"), "a > bool b");
    assert_eq!(
        ok("holt_winters(x[5m], 0.5, 0.5)"),
        "holt_winters(x[5m], 0.5, 0.5)"
    );
    assert_eq!(ok("sum"), "sum");
    assert_eq!(ok("offset offset 5m"), "offset offset 5m");
    assert_eq!(ok("1 > bool 2"), "1 > bool 2");
    assert_eq!(ok("round(x)"), "round(x)");
    assert!(matches!(parse("a and b").unwrap(), Expr::Binary(b) if b.modifier.is_some()));
}

#[test]
fn errors_say_where_and_what() {
    assert_eq!(
        err("a +"),
        "1:4: parse error: unexpected end of input, expected expression"
    );
    assert_eq!(
        err("foo{"),
        "1:5: parse error: unexpected end of input inside braces"
    );
    assert_eq!(
        err("sum(rate(x[5m])"),
        "1:16: parse error: unclosed left parenthesis"
    );
    assert_eq!(
        err("rate(foo)"),
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"
    );
    assert_eq!(
        err("nope(x)"),
        "1:1: parse error: unknown function with name \"nope\""
    );
    assert_eq!(
        err("1 > 2"),
        "1:3: parse error: comparisons between scalars must use BOOL modifier"
    );
    assert_eq!(
        err("sum(x) offset 5m").split(": ").last(),
        Some(
            "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"
        )
    );
    assert!(err("{}").contains("at least one non-empty matcher"));
    assert!(err(r#"foo{__name__="bar"}"#).contains("metric name must not be set twice"));
    assert!(err("x[5m][5m]").contains("ranges only allowed for vector selectors"));
    assert!(err("foo offset 1m [5m]").contains("no offset modifiers allowed before range"));
    assert!(err("1 and 2").contains("not allowed in binary scalar expression"));
    assert!(err("a + bool b").contains("bool modifier can only be used on comparison operators"));
    assert!(err("topk(x)").contains("expected 2, got 1"));
    assert!(
        err("sum(\"a\")")
            .contains("expected type instant vector in aggregation expression, got string")
    );
    assert!(err("-\"a\"").contains("unary expression only allowed"));
    assert!(err("foo[0s]").contains("greater than 0"));
    assert!(err(r#"foo{a=~"("}"#).contains("error parsing regexp"));
    assert!(err("label_join(x)").contains("expected at least 3 argument(s)"));
    assert!(err("round(x, 1, 2)").contains("expected at most 2 argument(s)"));
    assert!(err("a\n+ )").starts_with("2:3: "));
    assert_eq!(err(""), "1:1: parse error: no expression found in input");
    assert!(err(&"(".repeat(10_000)).contains("nested more than"));
}

proptest! {
    #[test]
    fn any_text_is_parsed_or_refused(q in ".{0,80}") {
        let _ = parse(&q);
    }

    #[test]
    fn promql_like_text_is_parsed_or_refused(q in "[a-z_(){}\\[\\]\"=~!,:@0-9.+*/^<> -]{0,60}") {
        if let Ok(e) = parse(&q) {
            // What is printed parses back to the same tree.
            let again = parse(&e.to_string());
            prop_assert!(again.is_ok(), "{} -> {}", q, e);
        }
    }
}
