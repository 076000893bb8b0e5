"""The public API: what ``skyparley`` and its public packages export.

A name added to or dropped from a package's ``__all__`` is a change of the public API: this
test makes it a deliberate one (update the list here in the same commit).
"""

from __future__ import annotations

import importlib
import types

import pytest

PUBLIC_API: dict[str, list[str]] = {
    "skyparley": [
        "InputError",
        "LedgerError",
        "LedgerInputError",
        "SkyparleyError",
        "SplitViewError",
        "TrackFileError",
        "VerificationError",
        "__version__",
    ],
    "skyparley.domain.ledger": [
        "COSIGNATURE_V1",
        "Checkpoint",
        "CosignResult",
        "Cosignature",
        "ED25519",
        "EMPTY_ROOT",
        "ENTRY_SIGNATURE_CONTEXT",
        "Entry",
        "HASH_SIZE",
        "JSONValue",
        "KeyRing",
        "MAX_SIGNATURES",
        "MemoryTree",
        "Note",
        "NoteSignature",
        "Receipt",
        "SignedCheckpoint",
        "SignedEntry",
        "SigningKey",
        "TreeHashes",
        "VerifierKey",
        "Witness",
        "canonical_json",
        "check_key_name",
        "consistency_proof",
        "cosign_checkpoint",
        "cosignature_message",
        "entry_hash",
        "generate_key",
        "inclusion_proof",
        "key_id",
        "leaf_hash",
        "load_private_key_pem",
        "node_hash",
        "open_checkpoint",
        "parse_note",
        "parse_verifier_key",
        "root",
        "sign_checkpoint",
        "sign_entry",
        "sign_note",
        "tree_root",
        "verify_chain",
        "verify_consistency",
        "verify_entry",
        "verify_inclusion",
        "verify_note",
        "verify_receipt",
    ],
    "skyparley.geo": [
        "FPM_MS",
        "FT_M",
        "KT_MS",
        "NM_M",
        "EnuBasis",
        "GeodesicInverse",
        "Geodetic",
        "Kinematics",
        "PairConflicts",
        "PairGeometry",
        "destination",
        "detect_conflict_pairs",
        "ecef_to_enu_vectors",
        "ecef_to_geodetic",
        "enu_basis",
        "enu_to_ecef_vectors",
        "fpm_to_ms",
        "ft_to_m",
        "geodesic_inverse",
        "geodetic_to_ecef",
        "kinematics",
        "kt_to_ms",
        "m_to_ft",
        "m_to_nm",
        "ms_to_fpm",
        "ms_to_kt",
        "nm_to_m",
        "pair_geometry",
        "propagate",
        "tangent_distance_m",
    ],
    "skyparley.client": ["Client", "ClientError"],
    "skyparley.domain": [
        "AircraftStates",
        "Conflicts",
        "SeparationMinima",
        "TrackTable",
        "detect_conflicts",
        "iter_conflicts",
        "iter_snapshots",
        "step_times",
    ],
}

PACKAGES = sorted(PUBLIC_API)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_the_documented_list(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"{package}.__all__ names a name twice"
    assert sorted(exported) == sorted(PUBLIC_API[package])


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_and_is_public(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which is not there"
        assert not name.startswith("_") or (name.startswith("__") and name.endswith("__")), (
            f"{package}.__all__ exports the private name {name!r}"
        )
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"


@pytest.mark.parametrize("package", PACKAGES)
def test_nothing_public_is_left_out_of_all(package: str) -> None:
    """Every public, non-module name of the package is in ``__all__``: no accidental exports."""
    module = importlib.import_module(package)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(module.__all__) == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_star_import_gives_exactly_all(package: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)  # noqa: S102 (a fixed, trusted statement)
    namespace.pop("__builtins__", None)
    assert sorted(namespace) == sorted(PUBLIC_API[package])


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    import skyparley

    assert skyparley.__version__ == version("skyparley")
