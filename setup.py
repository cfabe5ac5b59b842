"""Map the top-level folders into the one ``spikefab`` import namespace.

DESIGN.md section 2: ``spikefab.compiler`` lives in ``compiler/``, ``spikefab.emulator`` in
``emulator/`` and so on.  The package list is computed so that a new subpackage in any wing is
picked up without editing packaging metadata; everything else is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

WINGS = {"spikefab": "spikefab", "spikefab.compiler": "compiler",
         "spikefab.emulator": "emulator", "spikefab.rtl": "rtl", "spikefab.runtime": "runtime",
         # the example scripts ship too: ``spikefab demo`` runs spikefab.examples.digits
         "spikefab.examples": "examples"}

packages: list[str] = []
package_dir: dict[str, str] = {}
for name, folder in WINGS.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(where=folder):
        packages.append(f"{name}.{sub}")

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={"spikefab.arch": ["profiles/*.toml"],
                  "spikefab.rtl.virtual_board": ["*.cpp"]},
    include_package_data=False,
)
