# The sessions are defined in antsibull-nox.toml; docs/compatibility.md says which run here.
# Run through scripts/nox.sh (a venv with nox and antsibull-nox at the versions of requirements-lock.txt).
#
# /// script
# dependencies = ["nox", "antsibull-nox"]
# ///

import sys

import nox

try:
    import antsibull_nox
except ImportError:
    print("antsibull-nox is not installed in the Python environment of nox: use scripts/nox.sh")
    sys.exit(1)


antsibull_nox.load_antsibull_nox_toml()


if __name__ == "__main__":
    nox.main()
