//! Planning a transform once: reference tables read and registered, the
//! SQL planned against the input's schema with the hidden row column
//! carried through every projection, checked to be row-local, optimised,
//! and every lookup's key checked to be unique. [`Transform::apply`] then
//! runs that plan on each batch.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};
use datafusion::prelude::{SessionConfig, SessionContext};
use records::transform::{Column as ColumnRecord, Transform as TransformRecord};

use crate::error::{Error, Result};
use crate::guard::{self, ERROR};
use crate::materialize::materialize;
use crate::message::one_line;
use crate::tables::{ReferenceData, TableSource};
use crate::{ROW_ID, rowlocal};

/// The name of the cleaned rows in the SQL.
pub const INPUT: &str = "input";

/// The most rows DataFusion puts in one output batch (etl's default batch
/// size; a larger batch comes out in several pieces).
const OUTPUT_BATCH_ROWS: usize = 65_536;

/// Which queries a transform accepts, and so how it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Row-local: run batch by batch ([`Transform::apply`]), on each shard
    /// alike, and replayed at inference.
    #[default]
    Rows,
    /// The whole input at once ([`Transform::apply_whole`]): window
    /// functions, `ORDER BY`, `LIMIT` and aggregates over input joined back
    /// to each row. Memory holds the whole input; it cannot be sharded or
    /// replayed on inference rows without skew.
    WholeInput,
}

/// A planned transform, ready to run on batches of the input schema.
#[derive(Debug, Clone)]
pub struct Transform {
    pub(crate) state: SessionState,
    /// The optimised plan; its output carries [`ROW_ID`] last or anywhere.
    pub(crate) plan: LogicalPlan,
    /// The input schema with [`ROW_ID`] appended.
    pub(crate) input: SchemaRef,
    /// The output schema without [`ROW_ID`].
    pub(crate) output: SchemaRef,
    /// The input columns the plan reads.
    required: Vec<String>,
    pub(crate) scope: Scope,
    record: TransformRecord,
}

impl Transform {
    /// Reads the reference tables and plans `sql`, a row-local query, over
    /// `input` (the cleaned rows' schema).
    pub async fn plan(sql: &str, tables: &[TableSource], input: SchemaRef) -> Result<Self> {
        Self::plan_scoped(sql, tables, input, Scope::Rows).await
    }

    /// [`Transform::plan`] for a query of `scope`.
    pub async fn plan_scoped(
        sql: &str,
        tables: &[TableSource],
        input: SchemaRef,
        scope: Scope,
    ) -> Result<Self> {
        let mut data = Vec::with_capacity(tables.len());
        for table in tables {
            data.push(table.read().await?);
        }
        Self::plan_with(sql, data, input, scope).await
    }

    /// Plans `sql` over `input` and reference tables already in memory.
    pub async fn plan_with(
        sql: &str,
        tables: Vec<ReferenceData>,
        input: SchemaRef,
        scope: Scope,
    ) -> Result<Self> {
        let session = session(tables, &input).await?;
        let planned = session
            .state
            .create_logical_plan(sql)
            .await
            .map_err(|e| Error::Sql(one_line(&e, &session.names)))?;
        rowlocal::check_statement(&planned)?;
        rowlocal::check(&planned, false, scope)?;
        let carried = guard::guard(planned, None)
            .and_then(carry_row_id)
            .map_err(|e| Error::Sql(one_line(&e, &session.names)))?;
        session.finish(sql, carried, input, scope).await
    }

    /// Whether the transform runs batch by batch or on the whole input.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The schema of the rows the transform writes.
    pub fn output_schema(&self) -> &SchemaRef {
        &self.output
    }

    /// The input columns the query reads (after it was pruned to what its
    /// result needs).
    pub fn required_inputs(&self) -> &[String] {
        &self.required
    }

    /// What the manifest and the card record.
    pub fn record(&self) -> &TransformRecord {
        &self.record
    }
}

/// A DataFusion session with the reference tables and an empty `input`
/// registered, before the query is planned.
pub(crate) struct Session {
    pub(crate) state: SessionState,
    /// The table names the query may use (`input` first).
    pub(crate) names: Vec<String>,
    records: Vec<records::transform::ReferenceTable>,
    with_row: SchemaRef,
}

/// Registers `tables` and `input` (with the row column) in a new session.
pub(crate) async fn session(tables: Vec<ReferenceData>, input: &SchemaRef) -> Result<Session> {
    if let Some(field) = input
        .fields()
        .iter()
        .find(|f| [ROW_ID, ERROR].contains(&f.name().as_str()))
    {
        return Err(Error::Sql(format!(
            "the input has a column named '{}', a name the transform reserves; rename it with etl.rename",
            field.name()
        )));
    }
    // One partition (etl runs batches in parallel itself), and output
    // batches as large as etl's, so a batch comes out in one piece.
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_batch_size(OUTPUT_BATCH_ROWS)
        .with_information_schema(false);
    let context = SessionContext::new_with_config(config);
    let mut names = vec![INPUT.to_string()];
    let mut records = Vec::with_capacity(tables.len());
    for table in tables {
        let name = table.record.name.clone();
        let memory = MemTable::try_new(Arc::clone(&table.schema), vec![table.batches])
            .map_err(|e| table_error(&table.record, &e.to_string()))?;
        context
            .register_table(name.as_str(), Arc::new(memory))
            .map_err(|e| table_error(&table.record, &e.to_string()))?;
        names.push(name);
        records.push(table.record);
    }
    let with_row = Arc::new(with_row_id(input));
    let empty = MemTable::try_new(Arc::clone(&with_row), vec![vec![]])
        .map_err(|e| Error::Execution(e.to_string()))?;
    context
        .register_table(INPUT, Arc::new(empty))
        .map_err(|e| Error::Execution(e.to_string()))?;
    Ok(Session {
        state: context.state(),
        names,
        records,
        with_row,
    })
}

impl Session {
    /// Optimises `carried` (a plan carrying the row column), checks it is
    /// row-local and its lookups unique, and makes the transform.
    pub(crate) async fn finish(
        self,
        sql: &str,
        carried: LogicalPlan,
        input: SchemaRef,
        scope: Scope,
    ) -> Result<Transform> {
        let plan = self
            .state
            .optimize(&carried)
            .map_err(|e| Error::Sql(one_line(&e, &self.names)))?;
        rowlocal::check(&plan, true, scope)?;
        let plan = materialize(&self.state, plan).await?;
        rowlocal::check_lookups(&self.state, &plan, scope).await?;
        let output = output_schema(&plan)?;
        let required = required_inputs(&plan, &self.with_row);
        let record = TransformRecord {
            sql: sql.to_string(),
            tables: self.records,
            columns_before: columns(&input),
            columns_after: columns(&output),
            whole_input: scope == Scope::WholeInput,
        };
        Ok(Transform {
            state: self.state,
            plan,
            input: self.with_row,
            output,
            required,
            scope,
            record,
        })
    }
}

/// The input columns the optimised plan's scan of `input` reads.
fn required_inputs(plan: &LogicalPlan, with_row: &Schema) -> Vec<String> {
    let mut required = Vec::new();
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && scan.table_name.table() == INPUT
        {
            let all: Vec<usize> = (0..with_row.fields().len()).collect();
            for &i in scan.projection.as_ref().unwrap_or(&all) {
                let name = with_row.field(i).name();
                if name != ROW_ID && !required.contains(name) {
                    required.push(name.clone());
                }
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    required
}

fn table_error(record: &records::transform::ReferenceTable, message: &str) -> Error {
    Error::Table {
        name: record.name.clone(),
        location: record.location.clone(),
        message: message.to_string(),
    }
}

/// `schema` with the row column appended.
fn with_row_id(schema: &Schema) -> Schema {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(ROW_ID, DataType::UInt64, false));
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Adds the row column to every projection whose input has it and that
/// dropped it, bottom up, recomputing each node's schema on the way.
pub(crate) fn carry_row_id(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let carried = plan.transform_up(|node| {
        let node = node.recompute_schema()?;
        let LogicalPlan::Projection(projection) = node else {
            return Ok(Transformed::no(node));
        };
        let input_has = projection
            .input
            .schema()
            .has_column_with_unqualified_name(ROW_ID);
        if !input_has || projection.schema.has_column_with_unqualified_name(ROW_ID) {
            return Ok(Transformed::no(LogicalPlan::Projection(projection)));
        }
        let (qualifier, _) = projection
            .input
            .schema()
            .qualified_field_with_unqualified_name(ROW_ID)?;
        let column = Column::new(qualifier.cloned(), ROW_ID);
        let mut expr = projection.expr;
        expr.push(Expr::Column(column));
        let rebuilt = Projection::try_new(expr, projection.input)?;
        Ok(Transformed::yes(LogicalPlan::Projection(rebuilt)))
    })?;
    Ok(carried.data)
}

/// The plan's output without the row column; output names must be unique
/// (they become Parquet columns).
fn output_schema(plan: &LogicalPlan) -> Result<SchemaRef> {
    let schema = plan.schema().as_arrow();
    let mut fields = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for field in schema.fields() {
        if field.name() == ROW_ID || field.name() == ERROR {
            continue;
        }
        if !seen.insert(field.name().clone()) {
            return Err(Error::Sql(format!(
                "the result has two columns named '{}'; give one another name with AS",
                field.name()
            )));
        }
        fields.push(field.as_ref().clone());
    }
    if !schema.fields().iter().any(|f| f.name() == ROW_ID) {
        return Err(Error::Execution(
            "the row number was lost in planning; please report this query".into(),
        ));
    }
    Ok(Arc::new(Schema::new(fields)))
}

fn columns(schema: &Schema) -> Vec<ColumnRecord> {
    schema
        .fields()
        .iter()
        .map(|f| ColumnRecord {
            name: f.name().clone(),
            data_type: f.data_type().to_string(),
        })
        .collect()
}
