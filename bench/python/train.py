"""scikit-learn peer of Cauce's trainer (bench/config/*.yaml): median /
most-frequent imputation, standard scaling, one-hot encoding in a Pipeline
with a ColumnTransformer; fit on the train files, accuracy on the test files,
model saved with joblib. Prints the test metric (accuracy for classifiers,
RMSE for the regressors, which read the 0/1 target as a number) and row
counts as JSON.

The gradient-boosting peers (LightGBM, XGBoost's `hist`, scikit-learn's
HistGradientBoosting) get the same preprocessing and Cauce's defaults: 100
rounds, learning rate 0.1, 31 leaves (XGBoost: its own depth-wise default,
max_depth 6), 20 rows per leaf, no early stopping, all cores.

usage: train.py {logistic,forest,forest_default,tree,knn,linear,ridge,lasso,lightgbm,xgboost,hgb,
                 lightgbm-reg,xgboost-reg,hgb-reg} MODEL.joblib --train F... --test F...
"""

import argparse
import json

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

NUMERIC = [f"x{j}" for j in range(8)]


def booster(name, kind):
    """A maker of the gradient-boosting peer `name` for `kind` (Classifier or
    Regressor), with Cauce's defaults."""
    def make():
        if name == "lightgbm":
            return getattr(__import__("lightgbm"), f"LGBM{kind}")(
                n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                verbose=-1, random_state=42)
        if name == "xgboost":
            return getattr(__import__("xgboost"), f"XGB{kind}")(
                n_estimators=100, learning_rate=0.1, tree_method="hist", random_state=42)
        return {"Classifier": HistGradientBoostingClassifier,
                "Regressor": HistGradientBoostingRegressor}[kind](
            max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
            early_stopping=False, random_state=42)
    return make
CATEGORICAL = ["cat_a", "cat_b"]
ESTIMATORS = {
    "logistic": lambda: LogisticRegression(C=1.0, max_iter=1000),
    "forest": lambda: RandomForestClassifier(n_estimators=100, max_depth=12, n_jobs=-1,
                                             random_state=42),
    "forest_default": lambda: RandomForestClassifier(n_estimators=100, n_jobs=-1,
                                                     random_state=42),
    "tree": lambda: DecisionTreeClassifier(max_depth=12, random_state=42),
    # n_jobs=-1: as its users run it on a multi-core machine (Cauce uses both cores).
    "knn": lambda: KNeighborsClassifier(5, n_jobs=-1),
    **{name: booster(name, "Classifier") for name in ("lightgbm", "xgboost", "hgb")},
}
REGRESSORS = {
    "linear": LinearRegression,
    "ridge": lambda: Ridge(alpha=1.0),
    "lasso": lambda: Lasso(alpha=0.001),
    **{f"{name}-reg": booster(name, "Regressor") for name in ("lightgbm", "xgboost", "hgb")},
}


def features(numeric, categorical, dense=False):
    """Median imputation + scaling of `numeric`, most-frequent imputation +
    one-hot encoding of `categorical`: Cauce's preprocessing (as a dense
    matrix for the boosters: HistGradientBoosting takes nothing else)."""
    return ColumnTransformer(sparse_threshold=0.0 if dense else 0.3, transformers=[
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                              ("scale", StandardScaler())]), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                  ("onehot", OneHotEncoder(handle_unknown="ignore"))]),
         categorical),
    ])


BOOSTERS = {"lightgbm", "xgboost", "hgb", "lightgbm-reg", "xgboost-reg", "hgb-reg"}


def pipeline(algorithm):
    return Pipeline([("features", features(NUMERIC, CATEGORICAL, algorithm in BOOSTERS)),
                     ("model", {**ESTIMATORS, **REGRESSORS}[algorithm]())])


def read(files):
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return frame[NUMERIC + CATEGORICAL].astype({c: object for c in CATEGORICAL}), \
        frame["target"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("algorithm", choices=sorted({**ESTIMATORS, **REGRESSORS}))
    parser.add_argument("model")
    parser.add_argument("--train", nargs="+", required=True)
    parser.add_argument("--test", nargs="+", required=True)
    args = parser.parse_args()
    x_train, y_train = read(args.train)
    x_test, y_test = read(args.test)
    if args.algorithm not in REGRESSORS:
        y_train, y_test = y_train.astype("int64"), y_test.astype("int64")
    model = pipeline(args.algorithm).fit(x_train, y_train)
    predicted = model.predict(x_test)
    truth = y_test.to_numpy()
    if args.algorithm in REGRESSORS:
        metric = {"rmse": float(((predicted - truth) ** 2).mean() ** 0.5)}
    else:
        metric = {"accuracy": float((predicted == truth).mean())}
    joblib.dump(model, args.model)
    print(json.dumps({**metric, "train": len(y_train), "test": len(y_test)}))


if __name__ == "__main__":
    main()
