#!/usr/bin/python3
"""Writes the tinynet dataset: two interleaved half-moons, 200 points, fixed seed.

The dataset is our own work, so it is free (CC0-1.0) and needs no download.
"""
import csv
import math
import random
import sys

rng = random.Random(20261122)
out = sys.argv[1] if len(sys.argv) > 1 else "moons.csv"
with open(out, "w", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["x", "y", "label"])
    for i in range(200):
        label = i % 2
        angle = math.pi * rng.random()
        if label == 0:
            x, y = math.cos(angle), math.sin(angle)
        else:
            x, y = 1.0 - math.cos(angle), 0.5 - math.sin(angle)
        writer.writerow([f"{x + rng.gauss(0, 0.1):.6f}", f"{y + rng.gauss(0, 0.1):.6f}", label])
