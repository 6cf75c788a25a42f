//! `estimators!`: generates [`EstimatorParams`](super::EstimatorParams),
//! [`Fitted`](super::Fitted), [`ALGORITHMS`](super::ALGORITHMS),
//! [`ESTIMATORS`](super::ESTIMATORS) and their
//! dispatch from the one list in [`estimator`](super). Every match it writes
//! is exhaustive, so an estimator missing a method does not compile.
//!
//! A line reads `folder: Variant(Params) => [FittedVariant(Model), …]`: the
//! folder (declared here as a public module), the config variant (its serde
//! name is `Params::NAME`, checked by a test) and the fitted variants its
//! `fit` may return. Fitted variant names are what
//! artifacts store, so they never change for an existing estimator.

macro_rules! estimators {
    ($(
        $(#[$doc:meta])*
        $module:ident: $variant:ident($params:ty) => [$($fitted:ident($model:ty)),+ $(,)?]
    ),+ $(,)?) => {
        $(pub mod $module;)+

        /// Unfitted estimator: algorithm plus validated hyperparameters.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "algorithm", content = "params", rename_all = "snake_case")]
        pub enum EstimatorParams {
            $($(#[$doc])* $variant($params),)+
        }

        /// Algorithm names as written in config.
        pub const ALGORITHMS: &[&str] = &[$(<$params as Algorithm>::NAME),+];

        /// Every algorithm with the tasks it does: what tests, fuzz seeds
        /// and the parity harness (through `trainer --algorithms`) iterate,
        /// so adding an estimator needs no list kept by hand.
        pub const ESTIMATORS: &[(&str, &[Task])] =
            &[$((<$params as Algorithm>::NAME, <$params as Algorithm>::TASKS)),+];

        /// A fitted estimator.
        #[derive(Debug, Serialize, Deserialize)]
        #[allow(clippy::large_enum_variant)]
        pub enum Fitted {
            $($(#[doc = concat!("Fitted by `", stringify!($variant), "`.")] $fitted($model),)+)+
        }

        impl EstimatorParams {
            /// `algorithm`'s parameters from a JSON/YAML mapping (null: all
            /// defaults); `None` for an unknown algorithm.
            fn parse(algorithm: &str, params: &serde_json::Value) -> Option<Result<Self>> {
                $(if algorithm == <$params as Algorithm>::NAME {
                    return Some(from_value(params).map(Self::$variant));
                })+
                None
            }

            /// The algorithm's config name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => <$params as Algorithm>::NAME,)+
                }
            }

            /// The tasks the algorithm does.
            pub fn tasks(&self) -> &'static [Task] {
                match self {
                    $(Self::$variant(_) => <$params as Algorithm>::TASKS,)+
                }
            }

            /// Whether the algorithm takes missing values (NaN) as input.
            pub fn takes_missing_values(&self) -> bool {
                match self {
                    $(Self::$variant(_) => <$params as Algorithm>::MISSING_VALUES,)+
                }
            }

            fn check_values(&self) -> Result<()> {
                match self {
                    $(Self::$variant(p) => p.check(),)+
                }
            }

            /// The parameters with every task-dependent default made explicit
            /// (a forest's `max_features: sqrt` for classification, `all`
            /// for regression), as recorded in cards and artifacts.
            pub fn with_task_defaults(self, task: Task) -> Self {
                match self {
                    $(Self::$variant(p) => Self::$variant(p.with_task_defaults(task)),)+
                }
            }

            fn fit_checked(
                &self,
                x: &DenseMatrix<f64>,
                y: &Target,
                validation: Option<&Validation<'_>>,
                seed: u64,
            ) -> Result<Fitted> {
                match (self, validation) {
                    $((Self::$variant(p), None) => p.fit(x, y, seed),)+
                    $((Self::$variant(p), Some(v)) => p.fit_validated(x, y, v, seed),)+
                }
            }

            /// Whether fitting uses a validation set when given one (early
            /// stopping of `gradient_boosting`).
            pub fn uses_validation(&self) -> bool {
                match self {
                    $(Self::$variant(p) => p.uses_validation(),)+
                }
            }
        }

        impl Fitted {
            /// The fitted model behind the variant.
            pub(crate) fn model(&self) -> &dyn Estimator {
                match self {
                    $($(Self::$fitted(m) => m,)+)+
                }
            }
        }

        #[cfg(test)]
        mod generated_tests {
            use super::*;

            /// Each variant's serde name is its `NAME`, so config, cards and
            /// `ALGORITHMS` agree.
            #[test]
            fn serde_names_are_the_config_names() {
                $({
                    let params = EstimatorParams::$variant(<$params>::default());
                    let value = serde_json::to_value(&params).unwrap();
                    assert_eq!(value["algorithm"], <$params as Algorithm>::NAME);
                })+
            }
        }
    };
}
