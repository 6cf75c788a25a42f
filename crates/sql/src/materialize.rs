//! The reference side of each lookup computed once, when the transform is
//! planned: a side that is more than a table (a subquery that filters,
//! aggregates or joins reference tables) is run and its rows kept in
//! memory, so each batch joins against the result instead of running the
//! subquery again. Memory is what the build sides hold.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::collect;

use crate::error::{Error, Result};
use crate::rowlocal::reads_input;

/// `plan` with each join's reference side (on the path down to `input`)
/// replaced by its rows, where that side is a query of its own.
pub async fn materialize(state: &SessionState, plan: LogicalPlan) -> Result<LogicalPlan> {
    let mut sides = Vec::new();
    collect_sides(&plan, &mut sides);
    let mut done = Vec::with_capacity(sides.len());
    for (k, side) in sides.into_iter().enumerate() {
        if let Some(scan) = computed(state, &side, k).await? {
            done.push((side, scan));
        }
    }
    if done.is_empty() {
        return Ok(plan);
    }
    let replaced = plan
        .transform_up(|node| {
            match done.iter().position(|(side, _)| *side == node) {
                Some(i) => Ok(Transformed::yes(done[i].1.clone())),
                None => Ok(Transformed::no(node)),
            }
            .and_then(|t| t.map_data(|n| n.recompute_schema()))
        })
        .map_err(|e| Error::Execution(format!("materialising a lookup: {e}")))?;
    Ok(replaced.data)
}

/// The reference sides of the joins on the path down to `input`.
fn collect_sides(plan: &LogicalPlan, sides: &mut Vec<LogicalPlan>) {
    if let LogicalPlan::Join(join) = plan {
        let (input, other) = if reads_input(&join.left) {
            (&join.left, &join.right)
        } else {
            (&join.right, &join.left)
        };
        if !reads_input(other) {
            sides.push(other.as_ref().clone());
        }
        collect_sides(input, sides);
        return;
    }
    for child in plan.inputs() {
        if reads_input(child) {
            collect_sides(child, sides);
        }
    }
}

/// A scan of `side`'s rows, under its qualifier; none when `side` is a
/// table already, or its columns have several qualifiers (left as it is).
async fn computed(
    state: &SessionState,
    side: &LogicalPlan,
    k: usize,
) -> Result<Option<LogicalPlan>> {
    if is_table(side) {
        return Ok(None);
    }
    let schema = side.schema();
    let qualifiers: Vec<_> = schema.iter().map(|(q, _)| q.cloned()).collect();
    let Some(Some(qualifier)) = qualifiers.first().cloned() else {
        return Ok(None);
    };
    if qualifiers.iter().any(|q| q.as_ref() != Some(&qualifier)) {
        return Ok(None);
    }
    let failed = |e: datafusion::error::DataFusionError| {
        Error::Execution(format!("computing the lookup {qualifier}: {e}"))
    };
    let physical = state.create_physical_plan(side).await.map_err(failed)?;
    let batches = collect(physical, state.task_ctx()).await.map_err(failed)?;
    let arrow = Arc::new(schema.as_arrow().clone());
    let table = MemTable::try_new(arrow, vec![batches]).map_err(failed)?;
    let scan = LogicalPlanBuilder::scan(
        format!("_cauce_lookup_{k}"),
        provider_as_source(Arc::new(table)),
        None,
    )
    .and_then(|b| b.alias(qualifier.clone()))
    .and_then(|b| b.build())
    .map_err(failed)?;
    Ok(Some(scan))
}

/// A table scan, under an alias or not.
fn is_table(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::TableScan(scan) => scan.filters.is_empty(),
        LogicalPlan::SubqueryAlias(a) => is_table(&a.input),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use arrow::array::{Array, AsArray, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use records::transform::ReferenceTable;

    use crate::{ReferenceData, Scope, Transform};

    fn flights() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "carrier",
            DataType::Utf8,
            true,
        )]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(vec![
                Some("UA"),
                Some("AA"),
                None,
                Some("XX"),
            ]))],
        )
        .unwrap()
    }

    fn planes() -> ReferenceData {
        let schema = Arc::new(Schema::new(vec![
            Field::new("carrier", DataType::Utf8, true),
            Field::new("seats", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec!["UA", "UA", "AA", "UA"])),
                Arc::new(Int64Array::from(vec![100, 200, 150, 60])),
            ],
        )
        .unwrap();
        ReferenceData {
            record: ReferenceTable {
                name: "planes".into(),
                location: "memory://t/planes.csv".into(),
                format: "csv".into(),
                sha256: String::new(),
                bytes: 0,
                rows: 4,
            },
            schema,
            batches: vec![batch],
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_subquery_side_is_computed_once_when_planned() {
        let input = flights().schema();
        let transform = Transform::plan_with(
            "SELECT i.carrier, s.fleet, s.seats FROM input i LEFT JOIN \
             (SELECT carrier, COUNT(*) AS fleet, SUM(seats) AS seats FROM planes WHERE seats > 80 GROUP BY carrier) s \
             ON i.carrier = s.carrier",
            vec![planes()],
            input.clone(),
            Scope::Rows,
        )
        .await
        .unwrap();
        let shown = transform.plan.display_indent().to_string();
        assert!(shown.contains("_cauce_lookup_0"), "{shown}");
        assert!(!shown.contains("Aggregate"), "{shown}");
        let applied = transform.apply(flights()).await.unwrap();
        assert_eq!(applied.kept, [0, 1, 2, 3]);
        let fleet = applied.batch.column(1).as_primitive::<Int64Type>();
        let seats = applied.batch.column(2).as_primitive::<Int64Type>();
        assert_eq!((fleet.value(0), seats.value(0)), (2, 300));
        assert_eq!((fleet.value(1), seats.value(1)), (1, 150));
        assert!(fleet.is_null(2) && fleet.is_null(3));

        // A filtered table is computed once too, and its key is unique
        // once filtered.
        let filtered = Transform::plan_with(
            "SELECT i.carrier, p.seats FROM input i LEFT JOIN planes p ON i.carrier = p.carrier AND p.seats = 150",
            vec![planes()],
            input,
            Scope::Rows,
        )
        .await
        .unwrap();
        let shown = filtered.plan.display_indent().to_string();
        assert!(shown.contains("_cauce_lookup_0"), "{shown}");
        let applied = filtered.apply(flights()).await.unwrap();
        let seats = applied.batch.column(1).as_primitive::<Int64Type>();
        assert!(seats.is_null(0) && seats.value(1) == 150);
    }
}
