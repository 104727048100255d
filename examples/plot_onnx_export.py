"""
Export to ONNX and predict with onnxruntime alone
=================================================

Train on sklearn's digits, export the fitted model with
:meth:`~digitnet.DigitClassifier.to_onnx`, and run the file with onnxruntime,
as a service without torch would. The graph holds the input scaling and the
softmax, so it takes the same raw pixels as the estimator.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import digitnet

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
clf = digitnet.DigitClassifier(random_state=0).fit(X_train, y_train)
path = Path(tempfile.mkdtemp()) / "digits.onnx"
clf.to_onnx(path)
print(f"{path.name}: {path.stat().st_size / 1e3:.0f} kB")

# %%
# In the service: onnxruntime and numpy only. Inputs are float32 pixel rows,
# any batch size; outputs are the labels and the probabilities.
session = onnxruntime.InferenceSession(str(path))
print([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
label, proba = session.run(None, {"pixels": X_test.astype(np.float32)})
print(f"accuracy {np.mean(label == y_test):.4f}")
print(f"labels equal to predict: {np.mean(label == clf.predict(X_test)):.0%}")
print(f"max |p_onnx - p_torch| = {np.abs(proba - clf.predict_proba(X_test)).max():.1e}")

# %%
# The metadata describes the input, so the file is self-contained.
meta = session.get_modelmeta().custom_metadata_map
print(
    {k: v for k, v in meta.items() if k in ("digitnet.input_shape", "digitnet.classes")}
)

# %%
# The least certain test digits, with the ONNX model's top probability.
order = np.argsort(proba.max(axis=1))[:8]
fig, axes = plt.subplots(1, 8, figsize=(10, 1.8))
for ax, i in zip(axes, order, strict=True):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{label[i]} ({proba[i].max():.2f})\ntrue {y_test[i]}", fontsize=9)
    ax.axis("off")
fig.suptitle("Least certain answers of the ONNX model")
plt.show()
