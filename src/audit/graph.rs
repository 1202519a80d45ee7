//! The diagram: units -> accounts -> clusters -> pools -> metadata buckets,
//! as DOT, Mermaid, or an SVG drawn here (no JavaScript needed to see it).
//! Edges of entities with findings are marked as violating.

use super::{Audit, Status};
use crate::report::escape::{self, xml as escape};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

pub const COLUMNS: [&str; 5] = ["units", "accounts", "clusters", "pools", "metadata buckets"];

#[derive(Default)]
pub struct Graph {
    /// Node labels per column.
    pub columns: [Vec<String>; 5],
    /// (from column, from index, to index, violating): edges go to the next column.
    pub edges: Vec<(usize, usize, usize, bool)>,
    /// Where each node and edge is, so that building stays linear in the
    /// size of the diagram.
    node_index: HashMap<(usize, String), usize>,
    edge_index: HashMap<(usize, usize, usize), usize>,
}

impl Graph {
    fn node(&mut self, column: usize, label: &str) -> usize {
        if let Some(&i) = self.node_index.get(&(column, label.to_string())) {
            return i;
        }
        let Some(nodes) = self.columns.get_mut(column) else {
            return 0;
        };
        nodes.push(label.to_string());
        let i = nodes.len() - 1;
        self.node_index.insert((column, label.to_string()), i);
        i
    }

    fn edge(&mut self, column: usize, from: usize, to: usize, violating: bool) {
        match self
            .edge_index
            .get(&(column, from, to))
            .and_then(|&i| self.edges.get_mut(i))
        {
            Some(edge) => edge.3 |= violating,
            None => {
                self.edge_index.insert((column, from, to), self.edges.len());
                self.edges.push((column, from, to, violating));
            }
        }
    }
}

pub fn graph(audit: &Audit<'_>) -> Graph {
    let mut g = Graph::default();
    let many = audit.organizations.len() > 1;
    let name = |org: &str, label: &str| {
        if many {
            format!("{org}: {label}")
        } else {
            label.to_string()
        }
    };
    for org in &audit.organizations {
        for row in org.shown_rows() {
            let Some(account) = &row.account else {
                g.node(0, &name(&org.name, &row.unit));
                continue;
            };
            let unit = g.node(0, &name(&org.name, &row.unit));
            let account = g.node(1, &name(&org.name, account));
            g.edge(0, unit, account, row.status != Status::Ok);
        }
        for pool in &org.pools {
            let pool_node = g.node(3, &name(&org.name, &pool.name));
            if let Some(bucket) = &pool.bucket {
                let bucket = g.node(4, &name(&org.name, bucket));
                g.edge(3, pool_node, bucket, !pool.findings.is_empty());
            }
            for cluster in org.shown_clusters(pool) {
                let violating = !cluster.findings.is_empty();
                let cluster_node = g.node(2, &name(&org.name, &cluster.name));
                if let Some(account) = &cluster.account {
                    let account = g.node(1, &name(&org.name, account));
                    g.edge(1, account, cluster_node, violating);
                }
                g.edge(2, cluster_node, pool_node, violating);
                if let Some(bucket) = cluster.bucket.as_ref().filter(|b| pool.bucket.as_ref() != Some(*b)) {
                    // A cluster off its pool's bucket: drawn to its own bucket.
                    let bucket = g.node(4, &name(&org.name, bucket));
                    g.edge(3, pool_node, bucket, true);
                }
            }
        }
    }
    g
}

fn id(column: usize, index: usize) -> String {
    format!(
        "{}{index}",
        ["u", "a", "c", "p", "b"].get(column).copied().unwrap_or("n")
    )
}

pub fn render_dot(out: &mut dyn Write, audit: &Audit<'_>) -> io::Result<()> {
    let g = graph(audit);
    writeln!(out, "digraph planelint {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [shape=box, fontname=\"sans-serif\"];")?;
    for (column, (nodes, title)) in g.columns.iter().zip(COLUMNS).enumerate() {
        writeln!(out, "  subgraph cluster_{column} {{ label={};", escape::dot(title))?;
        for (i, label) in nodes.iter().enumerate() {
            writeln!(out, "    {} [label={}];", id(column, i), escape::dot(label))?;
        }
        writeln!(out, "  }}")?;
    }
    for (column, from, to, violating) in &g.edges {
        let style = if *violating { " [color=red, penwidth=2]" } else { "" };
        writeln!(out, "  {} -> {}{style};", id(*column, *from), id(column + 1, *to))?;
    }
    writeln!(out, "}}")
}

pub fn render_mermaid(out: &mut dyn Write, audit: &Audit<'_>) -> io::Result<()> {
    let g = graph(audit);
    writeln!(out, "flowchart LR")?;
    let names = ["units", "accounts", "clusters", "pools", "buckets"];
    for (column, ((nodes, title), name)) in g.columns.iter().zip(COLUMNS).zip(names).enumerate() {
        writeln!(out, "  subgraph {name}[{}]", escape::mermaid(title))?;
        for (i, label) in nodes.iter().enumerate() {
            writeln!(out, "    {}[{}]", id(column, i), escape::mermaid(label))?;
        }
        writeln!(out, "  end")?;
    }
    let mut violating = Vec::new();
    for (n, (column, from, to, bad)) in g.edges.iter().enumerate() {
        writeln!(out, "  {} --> {}", id(*column, *from), id(column + 1, *to))?;
        if *bad {
            violating.push(n.to_string());
        }
    }
    if !violating.is_empty() {
        writeln!(out, "  linkStyle {} stroke:#d00,stroke-width:3px", violating.join(","))?;
    }
    Ok(())
}

/// The diagram as inline SVG: five columns of boxes, curved edges, violating
/// ones in red, and a legend.
pub fn svg(audit: &Audit<'_>) -> String {
    const WIDTH: usize = 270;
    const GAP: usize = 70;
    const ROW: usize = 26;
    const TOP: usize = 50;
    let g = graph(audit);
    let tallest = g.columns.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let width = 5 * WIDTH + 4 * GAP + 20;
    let height = TOP + tallest * ROW + 60;
    let x = |column: usize| 10 + column * (WIDTH + GAP);
    let y = |index: usize| TOP + index * ROW;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="isolation diagram" font-family="sans-serif" font-size="12">"##
    );
    for (column, title) in COLUMNS.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="{}" y="30" font-weight="bold">{}</text>"##,
            x(column),
            escape(title, false)
        );
    }
    for (column, from, to, violating) in &g.edges {
        let (x1, y1) = (x(*column) + WIDTH - 10, y(*from) + 10);
        let (x2, y2) = (x(column + 1), y(*to) + 10);
        let (color, stroke) = if *violating { ("#d00", 2.5) } else { ("#9aa", 1.0) };
        let mid = (x1 + x2) / 2;
        let _ = write!(
            s,
            r##"<path d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" stroke="{color}" stroke-width="{stroke}"/>"##
        );
    }
    for (column, nodes) in g.columns.iter().enumerate() {
        for (i, label) in nodes.iter().enumerate() {
            // Long names are cut to fit their box; the full name is the tooltip.
            let shown: String = if label.chars().count() > 40 {
                label.chars().take(39).chain(std::iter::once('…')).collect()
            } else {
                label.clone()
            };
            let _ = write!(
                s,
                r##"<rect x="{}" y="{}" width="{}" height="20" rx="4" fill="#eef3f8" stroke="#567"/><text x="{}" y="{}"><title>{}</title>{}</text>"##,
                x(column),
                y(i),
                WIDTH - 10,
                x(column) + 5,
                y(i) + 14,
                escape(label, false),
                escape(&shown, false)
            );
        }
    }
    let legend = height - 25;
    let _ = write!(
        s,
        r##"<line x1="10" y1="{legend}" x2="40" y2="{legend}" stroke="#9aa"/><text x="46" y="{}">link</text><line x1="110" y1="{legend}" x2="140" y2="{legend}" stroke="#d00" stroke-width="2.5"/><text x="146" y="{}">link with a finding</text></svg>"##,
        legend + 4,
        legend + 4
    );
    s
}
