//! Replaying a recorded transform at inference, on raw rows, without skew:
//! the same SQL over the same cleaned columns and the same reference
//! tables (re-read and checked against their recorded checksums), with its
//! plan rewritten so that every input row gets a result: filters on the
//! input's path are dropped, inner lookups become left lookups (a missing
//! match is a null, as an outer lookup gives), semi and anti joins (`IN`,
//! `EXISTS` filters) are dropped, and only the columns the model needs are
//! kept, so the input needs only the columns those are computed from (not
//! the target, not a column used only to filter).

use std::str::FromStr;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{Column, JoinType};
use datafusion::logical_expr::{Expr, Join, LogicalPlan, Projection, SubqueryAlias};
use records::transform::Transform as TransformRecord;

use crate::error::{Error, Result};
use crate::guard::{ERROR, guard};
use crate::plan::{Scope, Transform, carry_row_id, session};
use crate::rowlocal;
use crate::tables::TableSource;
use crate::{ROW_ID, message::one_line};

/// What a replay does with a reference table whose bytes changed since
/// the transform was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableCheck {
    /// Refuse it: the lookups must be the ones training saw.
    #[default]
    Recorded,
    /// Use it as it is now (the record of the run names its checksum).
    Current,
}

impl Transform {
    /// Replays `record` on raw rows, keeping the output columns named in
    /// `keep` (the model's inputs, passthrough columns the transform makes);
    /// [`Transform::required_inputs`] then names the input columns needed.
    pub async fn replay(
        record: &TransformRecord,
        check: TableCheck,
        keep: &[String],
    ) -> Result<Self> {
        if record.whole_input {
            return Err(Error::Sql(
                "the model's transform is whole-input (etl.transform.whole_input: true): its values depend on all the rows etl saw, so replaying it on inference rows would skew them; score etl's transformed output with inference.transform: none".into(),
            ));
        }
        let mut tables = Vec::with_capacity(record.tables.len());
        for recorded in &record.tables {
            let location = common::storage::Location::parse(&recorded.location)?;
            let data = TableSource::new(recorded.name.clone(), location)
                .read()
                .await?;
            if data.record.sha256 != recorded.sha256 {
                match check {
                    TableCheck::Recorded => {
                        return Err(Error::Table {
                            name: recorded.name.clone(),
                            location: recorded.location.clone(),
                            message: format!(
                                "changed since the model was trained (sha256 {} now, {} at training), so its lookups would differ from training's; restore it, retrain, or set inference.transform_tables: current to use it as it is",
                                short(&data.record.sha256),
                                short(&recorded.sha256)
                            ),
                        });
                    }
                    TableCheck::Current => log::warn!(
                        "reference table {} ({}) changed since training (sha256 {} now, {} then): using it as it is (transform_tables: current)",
                        recorded.name,
                        recorded.location,
                        short(&data.record.sha256),
                        short(&recorded.sha256)
                    ),
                }
            }
            tables.push(data);
        }
        let input = recorded_schema(record)?;
        let session = session(tables, &input).await?;
        let planned = session
            .state
            .create_logical_plan(&record.sql)
            .await
            .map_err(|e| Error::Sql(one_line(&e, &session.names)))?;
        rowlocal::check_statement(&planned)?;
        rowlocal::check(&planned, false, Scope::Rows)?;
        let carried = keep_every_row(planned)
            .and_then(|plan| guard(plan, Some(keep)))
            .and_then(carry_row_id)
            .map_err(|e| Error::Sql(one_line(&e, &session.names)))?;
        let kept =
            keep_columns(carried, keep).map_err(|e| Error::Sql(one_line(&e, &session.names)))?;
        session.finish(&record.sql, kept, input, Scope::Rows).await
    }
}

fn short(sha256: &str) -> &str {
    &sha256[..12.min(sha256.len())]
}

/// The cleaned columns the transform was planned over, from the record.
fn recorded_schema(record: &TransformRecord) -> Result<SchemaRef> {
    let fields = record
        .columns_before
        .iter()
        .map(|c| {
            let data_type = DataType::from_str(&c.data_type).map_err(|e| {
                Error::Sql(format!(
                    "the recorded column '{}' has type '{}', which this build does not read: {e}",
                    c.name, c.data_type
                ))
            })?;
            Ok(Field::new(&c.name, data_type, true))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// Rewrites the input's path so no input row is left out (module docs).
fn keep_every_row(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    Ok(match plan {
        LogicalPlan::Filter(filter) => keep_every_row(Arc::unwrap_or_clone(filter.input))?,
        LogicalPlan::Projection(p) => {
            let input = keep_every_row(Arc::unwrap_or_clone(p.input))?;
            LogicalPlan::Projection(Projection::try_new(p.expr, Arc::new(input))?)
        }
        LogicalPlan::SubqueryAlias(a) => {
            let input = keep_every_row(Arc::unwrap_or_clone(a.input))?;
            LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(Arc::new(input), a.alias)?)
        }
        LogicalPlan::Join(join) => replay_join(join)?,
        other => other,
    })
}

fn replay_join(join: Join) -> datafusion::error::Result<LogicalPlan> {
    let input_left = rowlocal::reads_input(&join.left);
    let side = if input_left { &join.left } else { &join.right };
    let side = Arc::new(keep_every_row(side.as_ref().clone())?);
    let join_type = match join.join_type {
        JoinType::LeftSemi | JoinType::LeftAnti | JoinType::RightSemi | JoinType::RightAnti => {
            return Ok(Arc::unwrap_or_clone(side));
        }
        JoinType::Inner if input_left => JoinType::Left,
        JoinType::Inner => JoinType::Right,
        other => other,
    };
    let (left, right) = if input_left {
        (side, join.right)
    } else {
        (join.left, side)
    };
    Ok(LogicalPlan::Join(Join::try_new(
        left,
        right,
        join.on,
        join.filter,
        join_type,
        join.join_constraint,
        join.null_equality,
        join.null_aware,
    )?))
}

/// A projection of the result onto the columns in `keep` that it has, the
/// row column and the error column.
fn keep_columns(plan: LogicalPlan, keep: &[String]) -> datafusion::error::Result<LogicalPlan> {
    let schema = Arc::clone(plan.schema());
    let mut expr = Vec::new();
    for name in keep.iter().map(String::as_str).chain([ROW_ID, ERROR]) {
        if let Ok((qualifier, _)) = schema.qualified_field_with_unqualified_name(name) {
            let column = Expr::Column(Column::new(qualifier.cloned(), name));
            if !expr.contains(&column) {
                expr.push(column);
            }
        }
    }
    Ok(LogicalPlan::Projection(Projection::try_new(
        expr,
        Arc::new(plan),
    )?))
}
