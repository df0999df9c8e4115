//! Log parsing accuracy as the LogHub benchmarks measure it, from their description: grouping
//! accuracy (a line counts when its predicted group holds exactly the lines of its true group),
//! parsing accuracy (a line counts when its predicted template text equals the true one), and
//! group- and template-level F1 over groups.

use std::collections::HashMap;

/// One line's truth and prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line<'a> {
    /// True group (event id).
    pub truth: &'a str,
    /// True template text.
    pub truth_template: &'a str,
    /// Predicted group.
    pub predicted: u32,
    /// Predicted template text.
    pub predicted_template: &'a str,
}

/// The four scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Grouping accuracy.
    pub grouping: f64,
    /// Parsing accuracy.
    pub parsing: f64,
    /// Group-level F1.
    pub group_f1: f64,
    /// Template-level F1.
    pub template_f1: f64,
    /// Predicted groups.
    pub predicted_groups: usize,
    /// True groups.
    pub true_groups: usize,
}

/// Template texts compare with runs of whitespace as one space.
fn same_text(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

fn f1(correct: usize, predicted: usize, truth: usize) -> f64 {
    let p = correct as f64 / predicted.max(1) as f64;
    let r = correct as f64 / truth.max(1) as f64;
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Scores a parse of `lines`.
pub fn score(lines: &[Line<'_>]) -> Scores {
    let mut truth_size: HashMap<&str, usize> = HashMap::new();
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        *truth_size.entry(l.truth).or_default() += 1;
        groups.entry(l.predicted).or_default().push(i);
    }
    let (mut grouped_lines, mut correct_groups, mut correct_templates) = (0, 0, 0);
    for members in groups.values() {
        let Some(&first) = members.first() else {
            continue;
        };
        let truth = lines[first].truth;
        let exact = members.iter().all(|&i| lines[i].truth == truth)
            && truth_size.get(truth) == Some(&members.len());
        if exact {
            grouped_lines += members.len();
            correct_groups += 1;
            if same_text(lines[first].predicted_template, lines[first].truth_template) {
                correct_templates += 1;
            }
        }
    }
    let parsed = lines
        .iter()
        .filter(|l| same_text(l.predicted_template, l.truth_template))
        .count();
    let n = lines.len().max(1) as f64;
    Scores {
        grouping: grouped_lines as f64 / n,
        parsing: parsed as f64 / n,
        group_f1: f1(correct_groups, groups.len(), truth_size.len()),
        template_f1: f1(correct_templates, groups.len(), truth_size.len()),
        predicted_groups: groups.len(),
        true_groups: truth_size.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(truth: &'a str, tt: &'a str, predicted: u32, pt: &'a str) -> Line<'a> {
        Line {
            truth,
            truth_template: tt,
            predicted,
            predicted_template: pt,
        }
    }

    #[test]
    fn hand_worked_case() {
        // Truth: E1 ×3 ("a <*>"), E2 ×1 ("b"). Prediction: {0,1} and {2,3}: group {0,1} is not
        // all of E1, group {2,3} mixes E1 and E2: nothing is grouped right.
        let l = [
            line("E1", "a <*>", 0, "a <*>"),
            line("E1", "a <*>", 0, "a <*>"),
            line("E1", "a <*>", 1, "a 3"),
            line("E2", "b", 1, "b"),
        ];
        let s = score(&l);
        assert_eq!(s.grouping, 0.0);
        assert_eq!(s.parsing, 0.75);
        assert_eq!(s.group_f1, 0.0);
        // Prediction {0,1,2}, {3}: everything grouped; the template of E1 is right, E2's too.
        let l = [
            line("E1", "a <*>", 0, "a <*>"),
            line("E1", "a <*>", 0, "a  <*>"),
            line("E1", "a <*>", 0, "a <*>"),
            line("E2", "b", 7, "c"),
        ];
        let s = score(&l);
        assert_eq!(s.grouping, 1.0);
        assert_eq!(s.parsing, 0.75);
        assert_eq!(s.group_f1, 1.0);
        // Two correct groups, one with the right template: precision = recall = 1/2.
        assert_eq!(s.template_f1, 0.5);
        assert_eq!((s.predicted_groups, s.true_groups), (2, 2));
    }
}
