"""
Save, reload, and predict on image files
========================================

Save a model in the safe format (safetensors + JSON: loading runs no code),
load it elsewhere, and classify PNG files with ``digitnet predict``.
"""

# %%
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

import digitnet

X, y = load_digits(return_X_y=True)
clf = digitnet.DigitClassifier(random_state=0).fit(X[:1500], y[:1500])
folder = Path(tempfile.mkdtemp())
clf.save(folder / "digits.dnet")
model = digitnet.load(folder / "digits.dnet")
assert (model.predict(X[1500:]) == clf.predict(X[1500:])).all()

# %%
# Pictures of digits as a phone would see them: dark ink on light paper,
# larger than 8x8. The command line turns them into model input.
paths = []
for i in range(1500, 1505):
    ink = np.kron(X[i].reshape(8, 8) / 16, np.ones((12, 12)))
    page = np.pad(255 - 200 * ink, 20, constant_values=255).astype(np.uint8)
    path = folder / f"digit_{y[i]}.png"
    Image.fromarray(page).save(path)
    paths.append(str(path))

# The command line reads the same safe file (no pickle involved).
out = subprocess.run(
    [sys.executable, "-m", "digitnet", "predict", str(folder / "digits.dnet"), *paths],
    capture_output=True,
    text=True,
    check=True,
)
print(out.stdout)
