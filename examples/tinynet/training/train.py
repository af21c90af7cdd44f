#!/usr/bin/python3
"""Trains tinynet: a 2-16-1 multilayer perceptron on the half-moons dataset.

Usage: train.py --data DATA_DIR --out OUT_DIR [--seed N] [--steps N]

Full-batch gradient descent with a fixed step count and a seeded initialisation, so the same
inputs give bit-identical weights on the same platform. Writes OUT_DIR/tinynet.safetensors
(the format the library loads) and OUT_DIR/tinynet.pkl (the legacy pickle format that
releases before 1.0 used).
"""
import argparse
import csv
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tinynet.safetensors import save  # noqa: E402


def load_dataset(data_dir):
    with open(os.path.join(data_dir, "moons.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    features = np.array([[float(r["x"]), float(r["y"])] for r in rows], dtype=np.float32)
    labels = np.array([[float(r["label"])] for r in rows], dtype=np.float32)
    return features, labels


def train(features, labels, seed, steps, hidden=16, rate=0.5):
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((2, hidden)) * 0.5).astype(np.float32)
    b1 = np.zeros((hidden,), dtype=np.float32)
    w2 = (rng.standard_normal((hidden, 1)) * 0.5).astype(np.float32)
    b2 = np.zeros((1,), dtype=np.float32)
    count = np.float32(len(features))
    for _ in range(steps):
        hidden_out = np.tanh(features @ w1 + b1)
        prediction = 1.0 / (1.0 + np.exp(-(hidden_out @ w2 + b2)))
        error = (prediction - labels) / count
        grad_w2 = hidden_out.T @ error
        grad_b2 = error.sum(axis=0)
        back = (error @ w2.T) * (1.0 - hidden_out**2)
        grad_w1 = features.T @ back
        grad_b1 = back.sum(axis=0)
        w1 -= rate * grad_w1
        b1 -= rate * grad_b1
        w2 -= rate * grad_w2
        b2 -= rate * grad_b2
    return {"layer1.weight": w1, "layer1.bias": b1, "layer2.weight": w2, "layer2.bias": b2}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    features, labels = load_dataset(args.data)
    weights = train(features, labels, args.seed, args.steps)
    os.makedirs(args.out, exist_ok=True)
    save(os.path.join(args.out, "tinynet.safetensors"), weights, {"license": "MIT"})
    with open(os.path.join(args.out, "tinynet.pkl"), "wb") as handle:
        pickle.dump(weights, handle, protocol=4)
    hidden_out = np.tanh(features @ weights["layer1.weight"] + weights["layer1.bias"])
    logits = hidden_out @ weights["layer2.weight"] + weights["layer2.bias"]
    accuracy = float(((logits > 0) == (labels > 0.5)).mean())
    print(f"accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
