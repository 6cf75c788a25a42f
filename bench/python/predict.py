"""scikit-learn peer of Cauce's inference: load the joblib model, read the
Parquet input, predict with probabilities, write id, prediction, proba_<class>
and model_version as Parquet (zstd). Prints the row count as JSON.

usage: predict.py MODEL.joblib INPUT.parquet OUTPUT.parquet
"""

import json
import sys

import joblib
import pandas as pd

NUMERIC = [f"x{j}" for j in range(8)]
CATEGORICAL = ["cat_a", "cat_b"]


def main(model_path, source, out):
    model = joblib.load(model_path)
    frame = pd.read_parquet(source)
    features = frame[NUMERIC + CATEGORICAL].astype({c: object for c in CATEGORICAL})
    proba = model.predict_proba(features)
    classes = model.classes_
    # The labels as the model has them (Cauce writes the training labels'
    # type too); no conversion to text that Cauce does not do.
    result = pd.DataFrame({"id": frame["id"], "prediction": classes[proba.argmax(axis=1)]})
    for k, name in enumerate(classes):
        result[f"proba_{name}"] = proba[:, k]
    result["model_version"] = "v1"
    result.to_parquet(out, compression="zstd", index=False)
    print(json.dumps({"rows": len(result)}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
