"""LLM prompts: the user's own file if there is one, else the packaged one.

Read on every call, so an edited prompt applies to the next dictation
without a restart.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from v2m.domain.errors import ConfigError


def load_prompt(name: str, override_dir: Path | None) -> str:
    """`override_dir/NAME.txt` if it exists and is not blank, else `v2m/prompts/NAME.txt`."""
    if not name.isidentifier():  # names come from code; never a path
        raise ValueError(f"bad prompt name {name!r}")
    if override_dir is not None:
        path = Path(override_dir) / f"{name}.txt"
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read the prompt {path}: {exc}",
                                  "fix or delete the file to use v2m's own prompt") from None
            if text.strip():
                return text.strip()
    packaged = resources.files("v2m").joinpath("prompts", f"{name}.txt")
    try:
        return packaged.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ValueError(f"v2m has no prompt named {name!r}") from None
