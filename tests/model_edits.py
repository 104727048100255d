"""Edit a saved model file, as a person or a damaged disk would."""

import json

from safetensors import safe_open
from safetensors.torch import save, save_file

from digitnet import _persistence


def rewrite(path, edit_meta=None, edit_tensors=None, sign=True, edit_text=None):
    """Edit a saved model; ``sign`` recomputes its digest (a deliberate edit).

    ``edit_text`` edits the description's JSON text, after ``edit_meta``.
    """
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["digitnet"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        sha = f.metadata()["sha256"]
    if edit_meta:
        edit_meta(meta)
    if edit_tensors:
        edit_tensors(tensors)
    meta_json = json.dumps(meta, sort_keys=True)
    if edit_text:
        meta_json = edit_text(meta_json)
    if sign:
        unsigned = save(tensors, metadata={"digitnet": meta_json})
        header, payload = _persistence._split(unsigned, str(path))
        sha = _persistence._digest(meta_json, _persistence._index(header), payload)
    save_file(tensors, str(path), metadata={"digitnet": meta_json, "sha256": sha})
