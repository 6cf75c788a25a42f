//! Row failures found without failing the query. DataFusion aborts a whole
//! batch when one row's `CAST` or integer division by zero fails, so the
//! result's expressions are rewritten before planning: each such `CAST`
//! becomes a `TRY_CAST` and each integer `/` or `%` a guarded division,
//! and a hidden column ([`ERROR`]) says, for a row where one would have
//! failed, which output column and which expression, with the value. Rows
//! then fail one by one at full speed, with the SQL in the reason; what
//! this does not cover (a function that fails on its argument, a cast in a
//! `WHERE`) is still found by re-running the failing batch in halves.
//!
//! Only expressions that are always evaluated are rewritten: a cast under
//! `CASE`, `COALESCE`, `AND` or `OR` may be one the query guards itself,
//! so it is left as written.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Alias, ScalarFunction};
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, Projection, TryCast, lit, when,
};

/// The hidden column naming a row's failed expression (null when none).
pub const ERROR: &str = "_cauce_error";

/// Functions that do not evaluate every argument on every row.
const LAZY: [&str; 5] = ["coalesce", "nvl", "nvl2", "ifnull", "nullif"];

/// Rewrites the result's projection (the first one down from the root,
/// past `ORDER BY` / `LIMIT`) so its failing casts and divisions mark the
/// row in [`ERROR`] instead of failing the batch; with `only`, just the
/// output columns it names (a replay keeps no others).
pub fn guard(plan: LogicalPlan, only: Option<&[String]>) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Projection(projection) => {
            let schema = Arc::clone(projection.input.schema());
            let names: Vec<String> = projection
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let mut sites = Vec::new();
            let mut expr = Vec::with_capacity(projection.expr.len() + 1);
            for (e, column) in projection.expr.into_iter().zip(names) {
                if only.is_some_and(|only| !only.contains(&column)) {
                    expr.push(e);
                    continue;
                }
                let shown = match &e {
                    Expr::Alias(Alias { expr, .. }) => as_sql(expr),
                    other => as_sql(other),
                };
                let mut found = Vec::new();
                expr.push(rewrite(e, &schema, &mut found)?);
                sites.extend(found.into_iter().map(|site| Site {
                    text: format!("{column} = {shown}: {}", site.text),
                    ..site
                }));
            }
            if let Some(error) = error_column(sites)? {
                expr.push(error.alias(ERROR));
            }
            Ok(LogicalPlan::Projection(Projection::try_new(
                expr,
                projection.input,
            )?))
        }
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) | LogicalPlan::SubqueryAlias(_) => plan
            .map_children(|child| guard(child, only).map(Transformed::yes))?
            .data
            .recompute_schema(),
        other => Ok(other),
    }
}

/// One place a row can fail: when `when` holds, the row fails with
/// `text` and `value` (as text) in its reason.
struct Site {
    when: Expr,
    value: Option<Expr>,
    text: String,
}

/// `CASE WHEN site₁ THEN reason₁ … END`, or none without sites.
fn error_column(sites: Vec<Site>) -> Result<Option<Expr>> {
    let mut sites = sites.into_iter();
    let Some(first) = sites.next() else {
        return Ok(None);
    };
    let mut case = when(first.when.clone(), reason(&first));
    for site in sites {
        case = case.when(site.when.clone(), reason(&site));
    }
    Ok(Some(case.end()?))
}

fn reason(site: &Site) -> Expr {
    match &site.value {
        Some(value) => datafusion::functions::string::concat().call(vec![
            lit(format!("{} '", site.text)),
            Expr::Cast(Cast::new(Box::new(value.clone()), DataType::Utf8)),
            lit("'"),
        ]),
        None => lit(site.text.clone()),
    }
}

/// `expr` with its always-evaluated casts and integer divisions guarded;
/// each guarded place is pushed to `sites`.
fn rewrite(expr: Expr, schema: &DFSchema, sites: &mut Vec<Site>) -> Result<Expr> {
    match expr {
        Expr::Cast(Cast { expr, field }) => {
            let inner = rewrite(*expr, schema, sites)?;
            let tried = Expr::TryCast(TryCast::new_from_field(
                Box::new(inner.clone()),
                Arc::clone(&field),
            ));
            sites.push(Site {
                when: inner.clone().is_not_null().and(tried.clone().is_null()),
                value: Some(inner),
                text: format!("cannot cast to {}:", field.data_type()),
            });
            Ok(tried)
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::Divide | Operator::Modulo)
                && integer(&left, schema)
                && integer(&right, schema) =>
        {
            let left = rewrite(*left, schema, sites)?;
            let right = rewrite(*right, schema, sites)?;
            let divided = Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left.clone()),
                op,
                Box::new(right.clone()),
            ));
            let null = Expr::Literal(ScalarValue::try_from(&divided.get_type(schema)?)?, None);
            let zero = right.clone().eq(lit(0));
            sites.push(Site {
                when: left.is_not_null().and(zero.clone()),
                value: None,
                text: "division by zero".into(),
            });
            when(zero, null).otherwise(divided)
        }
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::And | Operator::Or,
            ..
        }) => Ok(expr),
        Expr::ScalarFunction(ScalarFunction { ref func, .. })
            if LAZY.contains(&func.name().to_lowercase().as_str()) =>
        {
            Ok(expr)
        }
        Expr::Alias(_)
        | Expr::BinaryExpr(_)
        | Expr::ScalarFunction(_)
        | Expr::TryCast(_)
        | Expr::Not(_)
        | Expr::Negative(_)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::Between(_)
        | Expr::Like(_)
        | Expr::InList(_) => Ok(expr
            .map_children(|child| rewrite(child, schema, sites).map(Transformed::yes))?
            .data),
        other => Ok(other),
    }
}

/// `expr` as SQL text with its columns unqualified (DataFusion's
/// unparser), or its plan form.
fn as_sql(expr: &Expr) -> String {
    let bare = expr.clone().transform_up(|e| match e {
        Expr::Column(c) => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(
            c.name,
        )))),
        other => Ok(Transformed::no(other)),
    });
    bare.and_then(|b| datafusion::sql::unparser::expr_to_sql(&b.data))
        .map(|sql| sql.to_string())
        .unwrap_or_else(|_| expr.to_string())
}

fn integer(expr: &Expr, schema: &DFSchema) -> bool {
    expr.get_type(schema)
        .is_ok_and(|t| t.is_integer() || matches!(t, DataType::Decimal128(..)))
}
