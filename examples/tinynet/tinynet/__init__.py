"""tinynet: classify 2-D points with a tiny trained network.

The weights are not part of the code: `Classifier` loads them from a path, by default the one
a Debian weights package installs.
"""
import os

import numpy as np

from .safetensors import load

DEFAULT_MODEL = "/usr/share/tinynet/models/tinynet/tinynet.safetensors"

__version__ = "1.0"


class Classifier:
    def __init__(self, path=None):
        path = path or os.environ.get("TINYNET_MODEL", DEFAULT_MODEL)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"tinynet model not found at {path}; install the tinynet-model-tinynet package "
                "(or run get-tinynet-model-tinynet) or set TINYNET_MODEL"
            )
        self.weights = load(path)

    def predict(self, points):
        points = np.asarray(points, dtype=np.float32)
        hidden = np.tanh(points @ self.weights["layer1.weight"] + self.weights["layer1.bias"])
        logits = hidden @ self.weights["layer2.weight"] + self.weights["layer2.bias"]
        return (logits[:, 0] > 0).astype(int)
