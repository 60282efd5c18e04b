"""Build script for the lfq._lfq extension module.

The extension is compiled against the generated C header ``lfq.h`` and links liblfq statically, so
the installed package needs no shared library at run time. The header and library are looked up in
this order:

1. the ``LFQ_INCLUDE_DIR`` and ``LFQ_LIB_DIR`` environment variables (the repository's Makefile
   exports both);
2. the repository checkout this directory lives in (``../../include`` and ``../../target/release``);
3. ``pkg-config lfq`` (an installed liblfq, e.g. after ``make install``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

NOT_FOUND = """
lfq: cannot find the liblfq C library ({what}).

Build it first, from the repository root:

    make lib            # cargo build --release --lib -> target/release/liblfq.a, include/lfq.h

then run `pip install ./bindings/python` again, or point the build at an installed copy with
LFQ_INCLUDE_DIR=/path/to/include LFQ_LIB_DIR=/path/to/lib (or a `lfq` pkg-config file).
Looked in: {places}
"""


def _pkg_config() -> tuple[Path, Path] | None:
    """Return (include dir, lib dir) from `pkg-config lfq`, or None if unavailable."""
    if shutil.which("pkg-config") is None:
        return None
    try:
        include = subprocess.run(
            ["pkg-config", "--variable=includedir", "lfq"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        libdir = subprocess.run(
            ["pkg-config", "--variable=libdir", "lfq"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    if not include or not libdir:
        return None
    return Path(include), Path(libdir)


def find_library() -> tuple[Path, Path]:
    """Locate lfq.h and liblfq.a; exit with an explanation when they are missing."""
    candidates: list[tuple[str, Path, Path]] = []
    env_inc, env_lib = os.environ.get("LFQ_INCLUDE_DIR"), os.environ.get("LFQ_LIB_DIR")
    if env_inc or env_lib:
        candidates.append(
            (
                "LFQ_INCLUDE_DIR/LFQ_LIB_DIR",
                Path(env_inc or REPO / "include"),
                Path(env_lib or REPO / "target" / "release"),
            )
        )
    candidates.append(("repository", REPO / "include", REPO / "target" / "release"))
    found = _pkg_config()
    if found is not None:
        candidates.append(("pkg-config", *found))

    places = []
    for _, include, libdir in candidates:
        header, archive = include / "lfq.h", libdir / "liblfq.a"
        if header.is_file() and archive.is_file():
            return include, libdir
        absent = [str(path) for path in (header, archive) if not path.is_file()]
        places.append(" and ".join(absent) + " missing")
    sys.exit(NOT_FOUND.format(what="lfq.h or liblfq.a not found", places="; ".join(places)))


def make_extension() -> Extension:
    """Describe lfq._lfq: the C module, linked with the static liblfq archive."""
    include, libdir = find_library()
    archive = libdir / "liblfq.a"
    link_args = []
    if sys.platform.startswith("linux"):
        # Keep the Rust runtime's symbols private to this module so that another extension that
        # also embeds liblfq (or Rust code) cannot clash with it.
        link_args.append("-Wl,--exclude-libs,ALL")
    return Extension(
        "lfq._lfq",
        sources=["src/lfq/_lfqmodule.c"],
        include_dirs=[str(include)],
        extra_objects=[str(archive)],
        libraries=["pthread", "dl", "m"],
        extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        extra_link_args=link_args,
        # Rebuild when the engine or its header changes, not only when the C source does.
        depends=[str(include / "lfq.h"), str(archive)],
    )


setup(ext_modules=[make_extension()])
