//! Go refuses a template that calls a function it does not know when it parses it; this walks
//! a parsed template for the function names it calls so that KubePulse refuses the same.

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, Parser, PipeNode};

fn pipe(p: &PipeNode, out: &mut Vec<String>) {
    for c in &p.commands {
        command(c, out);
    }
}

fn command(c: &CommandNode, out: &mut Vec<String>) {
    for a in &c.args {
        expr(a, out);
    }
}

fn expr(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Identifier(_, name) => out.push(name.to_string()),
        Expr::Pipe(_, p) => pipe(p, out),
        Expr::Chain(_, inner, _) => expr(inner, out),
        _ => {}
    }
}

fn list(l: &ListNode, out: &mut Vec<String>) {
    for n in &l.nodes {
        match n {
            Node::List(l) => list(l, out),
            Node::Action(a) => pipe(&a.pipe, out),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                pipe(&b.pipe, out);
                list(&b.body, out);
                if let Some(e) = &b.else_body {
                    list(e, out);
                }
            }
            Node::Template(t) => {
                if let Some(p) = &t.pipe {
                    pipe(p, out);
                }
            }
            Node::Define(d) => list(&d.body, out),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

/// The functions `src` calls, in order of appearance.
pub fn called(name: &str, src: &str) -> Result<Vec<String>, String> {
    let (tree, defines) = Parser::with_name(Some(name), src, "{{", "}}")
        .and_then(Parser::parse)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    list(&tree, &mut out);
    for d in &defines {
        list(&d.body, &mut out);
    }
    Ok(out)
}
