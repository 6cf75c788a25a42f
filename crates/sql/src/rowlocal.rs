//! What makes a query row-local, checked on its plan: on the path from the
//! result down to the scan of `input`, only projections, filters, aliases
//! and joins that keep each input row at most once (a lookup in a
//! reference table by a key that is unique there, or a semi/anti join).
//! Anything off that path (the reference side of a join) may be any query
//! over the reference tables.
//!
//! A whole-input transform ([`Scope::WholeInput`]) also allows window
//! functions, `ORDER BY` and `LIMIT` on that path, and reference sides that
//! read `input` (an aggregate over input joined back to each row); each
//! output row must still come from one input row, so an aggregate,
//! `DISTINCT` or `UNION` over the result stays refused.

use std::sync::Arc;

use datafusion::common::JoinType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::context::SessionState;
use datafusion::functions_aggregate::count::count_all;
use datafusion::logical_expr::{Expr, Join, LogicalPlan, LogicalPlanBuilder, col, lit};
use datafusion::physical_plan::collect;

use crate::error::{Error, Result};
use crate::plan::{INPUT, Scope};

/// Refuses anything but a query (DDL, DML, `EXPLAIN`, `COPY`, settings).
pub fn check_statement(plan: &LogicalPlan) -> Result<()> {
    match plan {
        LogicalPlan::Ddl(_)
        | LogicalPlan::Dml(_)
        | LogicalPlan::Copy(_)
        | LogicalPlan::Explain(_)
        | LogicalPlan::Analyze(_)
        | LogicalPlan::Statement(_)
        | LogicalPlan::DescribeTable(_) => Err(Error::Sql(
            "only a SELECT query over input (and the reference tables) is a transform".into(),
        )),
        _ => Ok(()),
    }
}

/// Whether `plan` reads `input`.
pub(crate) fn reads_input(plan: &LogicalPlan) -> bool {
    plan.exists(|node| {
        Ok(matches!(node, LogicalPlan::TableScan(scan) if scan.table_name.table() == INPUT))
    })
    .unwrap_or(false)
}

/// How many times `plan` scans `input`.
fn input_scans(plan: &LogicalPlan) -> usize {
    let mut count = 0;
    let _ = plan.apply(|node| {
        if matches!(node, LogicalPlan::TableScan(scan) if scan.table_name.table() == INPUT) {
            count += 1;
        }
        Ok(TreeNodeRecursion::Continue)
    });
    count
}

/// Whether `plan` reaches a scan of `input` through steps that keep each
/// row (the path a whole-input transform's output rows come down).
fn row_path(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(scan) => scan.table_name.table() == INPUT,
        LogicalPlan::Projection(p) => row_path(&p.input),
        LogicalPlan::Filter(f) => row_path(&f.input),
        LogicalPlan::SubqueryAlias(a) => row_path(&a.input),
        LogicalPlan::Window(w) => row_path(&w.input),
        LogicalPlan::Sort(s) => row_path(&s.input),
        LogicalPlan::Limit(l) => row_path(&l.input),
        LogicalPlan::Join(j) => row_path(&j.left) || row_path(&j.right),
        _ => false,
    }
}

fn refuse(what: &str, scope: Scope) -> Error {
    match scope {
        Scope::Rows => Error::Sql(format!(
            "{what} is not row-local: each output row must come from one input row, so that the transform streams, shards and replays at inference; compute it in a reference table, after etl, or set etl.transform.whole_input: true (no sharding, no replay at inference)"
        )),
        Scope::WholeInput => Error::Sql(format!(
            "{what} over the result is refused even for a whole-input transform: each output row must come from one input row (its lineage); aggregate in a subquery and join it back to input"
        )),
    }
}

/// Refuses a plan that is not row-local, or for [`Scope::WholeInput`] one
/// whose output rows do not each come from one input row (module docs).
/// Before optimisation a join's equality conditions are still in its
/// filter; `optimized` says they have been moved to its keys.
pub fn check(plan: &LogicalPlan, optimized: bool, scope: Scope) -> Result<()> {
    match input_scans(plan) {
        0 => {
            return Err(Error::Sql(format!(
                "the query does not read the table {INPUT} (the cleaned rows)"
            )));
        }
        1 => {}
        _ if scope == Scope::WholeInput => {}
        _ => {
            return Err(refuse(
                "reading input twice (a self-join or a subquery over input)",
                scope,
            ));
        }
    }
    let whole = scope == Scope::WholeInput;
    let mut node = plan;
    loop {
        node = match node {
            LogicalPlan::TableScan(_) => return Ok(()),
            LogicalPlan::Projection(p) => &p.input,
            LogicalPlan::Filter(f) => &f.input,
            LogicalPlan::SubqueryAlias(a) => &a.input,
            LogicalPlan::Window(w) if whole => &w.input,
            LogicalPlan::Sort(s) if whole => &s.input,
            LogicalPlan::Limit(l) if whole => &l.input,
            LogicalPlan::Join(join) => input_side(join, optimized, scope)?,
            LogicalPlan::Aggregate(_) => {
                return Err(refuse("an aggregate (GROUP BY, COUNT, SUM, …)", scope));
            }
            LogicalPlan::Window(_) => return Err(refuse("a window function (OVER …)", scope)),
            LogicalPlan::Sort(_) => return Err(refuse("ORDER BY", scope)),
            LogicalPlan::Limit(_) => return Err(refuse("LIMIT / OFFSET", scope)),
            LogicalPlan::Distinct(_) => return Err(refuse("DISTINCT", scope)),
            LogicalPlan::Union(_) => return Err(refuse("UNION", scope)),
            LogicalPlan::Unnest(_) => return Err(refuse("UNNEST", scope)),
            LogicalPlan::RecursiveQuery(_) => return Err(refuse("a recursive query", scope)),
            other => {
                let name = other.display().to_string();
                let name = name.split(':').next().unwrap_or("this step");
                return Err(refuse(name.trim(), scope));
            }
        };
    }
}

/// Whether the input rows come down the left side of `join`: the side
/// that reads input (row-local), or the side whose rows are input's rows
/// (whole-input, where the other side may aggregate over input too).
fn input_on_left(join: &Join, scope: Scope) -> Result<bool> {
    if scope == Scope::Rows {
        return Ok(reads_input(&join.left));
    }
    match (row_path(&join.left), row_path(&join.right)) {
        (true, true) => Err(refuse(
            "joining input's rows with input's rows (a self-join)",
            scope,
        )),
        (left, _) => Ok(left),
    }
}

/// Whether `plan` gives exactly one row: an aggregate without `GROUP BY`
/// (an uncorrelated scalar subquery such as `(SELECT AVG(x) FROM t)`).
fn one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(a) => a.group_expr.is_empty(),
        LogicalPlan::Projection(p) => one_row(&p.input),
        LogicalPlan::SubqueryAlias(a) => one_row(&a.input),
        _ => false,
    }
}

/// The side of `join` the input rows come down, refusing joins that could
/// repeat or invent rows.
fn input_side(join: &Join, optimized: bool, scope: Scope) -> Result<&Arc<LogicalPlan>> {
    let left = input_on_left(join, scope)?;
    let allowed = if left {
        matches!(
            join.join_type,
            JoinType::Inner
                | JoinType::Left
                | JoinType::LeftSemi
                | JoinType::LeftAnti
                | JoinType::LeftMark
        )
    } else {
        matches!(
            join.join_type,
            JoinType::Inner
                | JoinType::Right
                | JoinType::RightSemi
                | JoinType::RightAnti
                | JoinType::RightMark
        )
    };
    if !allowed {
        return Err(refuse(
            &format!(
                "a {} JOIN that keeps reference rows without an input row",
                join.join_type.to_string().to_uppercase()
            ),
            scope,
        ));
    }
    let repeats = matches!(
        join.join_type,
        JoinType::Inner | JoinType::Left | JoinType::Right
    );
    let keyless = join.on.is_empty() && (optimized || join.filter.is_none());
    let other = if left { &join.right } else { &join.left };
    if repeats && keyless && !one_row(other) {
        return Err(refuse(
            "a join without an equality condition (it can match several reference rows)",
            scope,
        ));
    }
    Ok(if left { &join.left } else { &join.right })
}

/// Checks that every lookup on the input's path finds at most one
/// reference row per key: the reference side's keys are unique (nulls,
/// which never match, aside).
pub async fn check_lookups(state: &SessionState, plan: &LogicalPlan, scope: Scope) -> Result<()> {
    let mut lookups = Vec::new();
    let mut node = plan;
    loop {
        node = match node {
            LogicalPlan::Projection(p) => &p.input,
            LogicalPlan::Filter(f) => &f.input,
            LogicalPlan::SubqueryAlias(a) => &a.input,
            LogicalPlan::Window(w) => &w.input,
            LogicalPlan::Sort(s) => &s.input,
            LogicalPlan::Limit(l) => &l.input,
            LogicalPlan::Join(join) => {
                let left = input_on_left(join, scope)?;
                if matches!(
                    join.join_type,
                    JoinType::Inner | JoinType::Left | JoinType::Right
                ) {
                    let (side, keys): (&LogicalPlan, Vec<Expr>) = if left {
                        (
                            &join.right,
                            join.on.iter().map(|(_, r)| r.clone()).collect(),
                        )
                    } else {
                        (&join.left, join.on.iter().map(|(l, _)| l.clone()).collect())
                    };
                    // A side over input (whole-input) has no rows yet: the
                    // run refuses a row that comes out twice instead.
                    if !keys.is_empty() && !reads_input(side) {
                        lookups.push((side.clone(), keys));
                    }
                }
                if left { &join.left } else { &join.right }
            }
            _ => break,
        };
    }
    for (side, keys) in lookups {
        unique_keys(state, side, keys).await?;
    }
    Ok(())
}

async fn unique_keys(state: &SessionState, side: LogicalPlan, keys: Vec<Expr>) -> Result<()> {
    let tables = table_names(&side);
    let shown: Vec<String> = keys.iter().map(|k| k.human_display().to_string()).collect();
    let failed = |e: datafusion::error::DataFusionError| {
        Error::Execution(format!("checking the keys of {}: {e}", tables.join(", ")))
    };
    let not_null = keys
        .iter()
        .cloned()
        .map(Expr::is_not_null)
        .reduce(Expr::and)
        .unwrap_or_else(|| lit(true));
    let named: Vec<Expr> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| k.clone().alias(format!("k{i}")))
        .collect();
    let check = LogicalPlanBuilder::from(side)
        .filter(not_null)
        .and_then(|b| b.aggregate(named, [count_all().alias("n")]))
        .and_then(|b| b.filter(col("n").gt(lit(1))))
        .and_then(|b| b.limit(0, Some(1)))
        .and_then(|b| b.build())
        .map_err(failed)?;
    let physical = state.create_physical_plan(&check).await.map_err(failed)?;
    let batches = collect(physical, state.task_ctx()).await.map_err(failed)?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let values: Vec<String> = (0..keys.len())
        .map(|i| {
            arrow::util::display::array_value_to_string(batch.column(i), 0)
                .unwrap_or_else(|_| "?".into())
        })
        .collect();
    let count = arrow::util::display::array_value_to_string(batch.column(keys.len()), 0)
        .unwrap_or_else(|_| "several".into());
    Err(Error::Lookup(format!(
        "the lookup key {} is not unique in {}: {} is on {count} rows, so the join would repeat input rows; de-duplicate the reference table or join on a unique key",
        shown.join(", "),
        tables.join(", "),
        values.join(", ")
    )))
}

/// The tables a plan scans, by name.
fn table_names(plan: &LogicalPlan) -> Vec<String> {
    let mut names = Vec::new();
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            names.push(scan.table_name.table().to_string());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    names.sort();
    names.dedup();
    names
}
