"""`v2m transcribe FILE...`: audio and video files to text or subtitles.

Uses the daemon's warm model when the daemon runs (TRANSCRIBE_FILE, with
this process's working directory for relative paths), else loads the model
here; `--local` forces that.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from pathlib import Path
from typing import Callable

import click

from v2m.domain import subtitles
from v2m.domain.errors import DaemonNotRunning, V2mError

Progress = Callable[[float, float], None] | None


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(subtitles.FORMATS), default="txt", show_default=True)
@click.option("-o", "--output", metavar="PATH",
              help="Where to write: '-' for stdout (the default), a file, or a directory: an existing "
                   "one or a path ending in '/' (created), which gets NAME.FORMAT per input. With "
                   "several FILES, PATH is always a directory.")
@click.option("--local", is_flag=True, help="Load the model in this process, even if the daemon runs.")
def transcribe(files: tuple[str, ...], fmt: str, output: str | None, local: bool) -> None:
    """Transcribe audio or video FILES (anything FFmpeg reads: wav, mp3, ogg,
    m4a, mkv, mp4, ...) to txt, srt, vtt or json.

    \b
    Examples:
      v2m transcribe talk.mp3                       # text on stdout
      v2m transcribe film.mkv --format srt -o film.srt
      v2m transcribe film.mkv --format srt -o subs/  # writes subs/film.srt
      v2m transcribe *.wav --format vtt -o subs/     # one .vtt each in subs/
    """
    if len(files) > 1 and output is None and fmt != "txt":
        raise click.UsageError(f"several files as {fmt}: give -o DIR")
    out_dir = _output_dir(output, files)
    engine = None if local else _daemon_engine()
    if engine is None:
        engine = _local_engine()
    names = output_names(files, fmt)
    failures = sum(not _transcribe_one(engine, path, fmt, output, out_dir and out_dir / name, len(files) > 1)
                   for path, name in zip(files, names))
    if failures:
        sys.exit(1)


def _transcribe_one(engine, path: str, fmt: str, output: str | None, out_file: Path | None,
                    several: bool) -> bool:
    """Transcribe one file to `out_file` (in -o DIR), the -o file, or stdout."""
    bar = _ProgressBar(Path(path).name) if sys.stderr.isatty() else None
    try:
        transcript = engine(path, bar)
    except V2mError as exc:
        click.echo(f"v2m: {path}: {exc}", err=True)
        return False
    finally:
        if bar:
            bar.close()
    rendered = subtitles.render(transcript, fmt)
    if out_file is not None:
        _write_file(out_file, rendered)
    elif output is None or output == "-":
        if several:
            click.echo(f"==> {path} <==")
        click.echo(rendered.rstrip("\n"))
    else:
        _write_file(Path(output), rendered)
    return True


def output_names(files: tuple[str, ...], fmt: str) -> list[str]:
    """NAME.FORMAT for each input in -o DIR; an input whose NAME is taken
    becomes NAME.EXT.FORMAT, then NAME-2.FORMAT, ...: nothing is overwritten."""
    taken: set[str] = set()
    names = []
    for path in files:
        p = Path(path)
        candidates = itertools.chain((p.stem, p.name), (f"{p.stem}-{i}" for i in itertools.count(2)))
        name = next(n for n in candidates if n not in taken)
        taken.add(name)
        names.append(f"{name}.{fmt}")
    return names


def _output_dir(output: str | None, files: tuple[str, ...]) -> Path | None:
    """The directory -o names (made now, before any work), or None for a file or stdout."""
    if output is None or output == "-":
        return None
    target = Path(output)
    if not (len(files) > 1 or output.endswith("/") or target.is_dir()):
        return None
    if target.exists() and not target.is_dir():
        why = "several inputs need a directory" if len(files) > 1 else "a path ending in / names a directory"
        raise click.UsageError(f"-o {output}: {target} is a file, but {why}")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise V2mError(f"cannot create the directory {output}: {exc.strerror or exc}") from None
    return target


def _daemon_engine() -> Callable[[str, Progress], subtitles.FileTranscript] | None:
    from v2m.ipc.client import DaemonClient

    try:
        DaemonClient(timeout_s=2.0).close()
    except DaemonNotRunning:
        return None

    def run(path: str, progress: Progress) -> subtitles.FileTranscript:
        watcher = _watch_progress(path, progress) if progress else None
        try:
            with DaemonClient(timeout_s=None) as conn:
                data = conn.call("TRANSCRIBE_FILE", {"path": path, "cwd": os.getcwd()})
        finally:
            if watcher:
                watcher.close()
        return subtitles.from_dict(data)
    return run


def _watch_progress(path: str, progress: Callable[[float, float], None]):
    """A second connection, subscribed, that feeds the daemon's progress events to the bar."""
    from v2m.ipc.client import DaemonClient

    conn = DaemonClient(timeout_s=5.0)
    conn.call("SUBSCRIBE")
    from v2m.ipc.edge import resolve_path

    target = resolve_path(path, os.getcwd())  # the path the daemon's events will name

    def pump() -> None:
        try:
            while (event := conn.next_event(None)) is not None:
                if event.get("type") == "file_progress" and event.get("path") == target:
                    progress(event["done_s"], event["total_s"])
        except (V2mError, OSError):
            pass  # closed when the reply came
    threading.Thread(target=pump, daemon=True).start()
    return conn


def _local_engine() -> Callable[[str, Progress], subtitles.FileTranscript]:
    from v2m.bootstrap import local_file_transcriber, open_config_store
    from v2m.domain.text_rules import vocabulary_prompt

    config = open_config_store().load()
    engine = local_file_transcriber(config)
    prompt = vocabulary_prompt(config["text"]["vocabulary"])
    return lambda path, progress: engine.transcribe_file(os.path.abspath(path), progress, prompt)


class _ProgressBar:
    """A bar on stderr, drawn once the duration is known (first progress call)."""

    def __init__(self, label: str) -> None:
        self._label, self._bar = label, None

    def __call__(self, done_s: float, total_s: float) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=max(1, int(total_s)), label=self._label,
                                          file=sys.stderr, show_eta=True)
            self._bar.__enter__()
        self._bar.update(max(0, min(int(done_s), self._bar.length) - self._bar.pos))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._bar.length - self._bar.pos)
            self._bar.__exit__(None, None, None)


def _write_file(target: Path, rendered: str) -> None:
    try:
        target.write_text(rendered if rendered.endswith("\n") else rendered + "\n", encoding="utf-8")
    except OSError as exc:
        raise V2mError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"v2m: wrote {target}", err=True)
