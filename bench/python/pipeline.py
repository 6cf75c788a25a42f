"""Python equivalent of `make demo` minus the build: the penguins sample
through the same steps as Cauce's etl → trainer → registry → inference with
config/pipeline_config.yaml and config/model_config.yaml: validate the
declared types and rules (invalid rows to a quarantine file with a reason),
drop duplicates, seeded 80/20 split to Parquet; fit a 100-tree random forest
(depth ≤ 8) behind imputation, scaling and one-hot encoding; accuracy on the
test split; save the model with a card holding its SHA-256 as version vN and
point `latest` at it; score the raw file and write predictions as Parquet.

usage: pipeline.py RAW.csv WORK_DIR
"""

import hashlib
import json
import os
import sys

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from train import features  # the same preprocessing as the other peers

NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]
RULES = {  # column: (allowed values, min, max, required)
    "species": ({"Adelie", "Chinstrap", "Gentoo"}, None, None, True),
    "island": ({"Biscoe", "Dream", "Torgersen"}, None, None, True),
    "bill_length_mm": (None, 25, 70, False),
    "bill_depth_mm": (None, 10, 25, False),
    "flipper_length_mm": (None, 150, 250, False),
    "body_mass_g": (None, 2000, 7000, False),
    "sex": ({"male", "female"}, None, None, False),
    "year": (None, 2007, 2009, False),
}


def etl(raw, out):
    df = pd.read_csv(raw, na_values=["", "NA"], keep_default_na=False)
    reason = pd.Series("", index=df.index)
    for column, (allowed, low, high, required) in RULES.items():
        values = df[column]
        bad = values.isna() if required else pd.Series(False, index=df.index)
        if allowed is not None:
            bad |= values.notna() & ~values.isin(allowed)
        if low is not None:
            bad |= values.notna() & ((values < low) | (values > high))
        reason = reason.where(~bad | (reason != ""), f"{column}: rule failed")
    invalid = reason != ""
    quarantine = df[invalid].assign(_reason=reason[invalid])
    df = df[~invalid].drop_duplicates()
    test = np.random.default_rng(42).random(len(df)) < 0.2
    os.makedirs(out, exist_ok=True)
    df[~test].to_parquet(f"{out}/train.parquet", compression="zstd", index=False)
    df[test].to_parquet(f"{out}/test.parquet", compression="zstd", index=False)
    quarantine.to_parquet(f"{out}/quarantine.parquet", compression="zstd", index=False)
    manifest = {"input": len(invalid), "quarantine": int(invalid.sum()),
                "train": int((~test).sum()), "test": int(test.sum())}
    with open(f"{out}/_manifest.json", "w") as f:
        json.dump(manifest, f)
    return df[~test], df[test]


def train(train_df, test_df, registry):
    model = Pipeline([("features", features(NUMERIC, CATEGORICAL)), ("model", RandomForestClassifier(
        n_estimators=100, max_depth=8, max_features="sqrt", n_jobs=-1, random_state=42))])
    model.fit(train_df[NUMERIC + CATEGORICAL], train_df["species"])
    accuracy = float((model.predict(test_df[NUMERIC + CATEGORICAL]) == test_df["species"]).mean())
    versions = os.path.join(registry, "versioned")
    os.makedirs(versions, exist_ok=True)
    version = f"v{len(os.listdir(versions)) + 1}"
    folder = os.path.join(versions, version)
    os.makedirs(folder)
    joblib.dump(model, f"{folder}/model.joblib")
    with open(f"{folder}/model.joblib", "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(f"{folder}/model_card.json", "w") as f:
        json.dump({"version": version, "metrics": {"accuracy": accuracy}, "sha256": digest}, f)
    os.makedirs(f"{registry}/latest", exist_ok=True)
    with open(f"{registry}/latest/pointer.json", "w") as f:
        json.dump({"version": version}, f)
    return folder, accuracy


def infer(raw, folder, out):
    model = joblib.load(f"{folder}/model.joblib")
    df = pd.read_csv(raw, na_values=["", "NA"], keep_default_na=False)
    proba = model.predict_proba(df[NUMERIC + CATEGORICAL])
    result = df[["island", "year"]].copy()
    result["prediction"] = model.classes_[proba.argmax(axis=1)]
    for k, name in enumerate(model.classes_):
        result[f"proba_{name}"] = proba[:, k]
    os.makedirs(out, exist_ok=True)
    result.to_parquet(f"{out}/predictions.parquet", compression="zstd", index=False)
    return len(result)


def main(raw, work):
    train_df, test_df = etl(raw, f"{work}/processed")
    folder, accuracy = train(train_df, test_df, f"{work}/models")
    rows = infer(raw, folder, f"{work}/predictions")
    print(json.dumps({"accuracy": accuracy, "train": len(train_df), "test": len(test_df),
                      "predictions": rows}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
