"""The README's Python examples run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    first_two = [b.strip() for b in blocks[:2]]
    assert first_two[0].endswith("digitnet train")
    assert first_two[1].endswith("python -m pytest")
    assert text.index(blocks[1]) < text.index("## Quick start")


def test_readme_quickstart_runs(capsys):
    blocks = _python_blocks()
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "held-out accuracy: " in out
    assert "'architecture'" in out
