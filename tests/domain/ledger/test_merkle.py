"""The RFC 9162 tree: proofs verify on random trees, any flipped bit fails, proofs are O(log n).

The transparency-dev/merkle vectors are checked in ``test_vectors.py``.
"""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import bit_of, flip_bit, ledger_leaves

from skyparley.domain.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from skyparley.errors import LedgerInputError, VerificationError


def build(leaves: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


@given(ledger_leaves())
def test_every_inclusion_and_consistency_proof_verifies(leaves: list[bytes]) -> None:
    tree = build(leaves)
    hashes = [leaf_hash(x) for x in leaves]
    n = len(leaves)
    roots = [root(hashes[:m]) for m in range(n + 1)]  # the bottom-up reference
    assert tree.root() == roots[n]
    for m in range(n + 1):
        assert tree_root(tree, m) == roots[m]
    for i in range(n):
        verify_inclusion(hashes[i], i, n, inclusion_proof(i, n, tree), roots[n])
    for m in range(1, n + 1):
        verify_consistency(m, n, roots[m], roots[n], consistency_proof(m, n, tree))


@given(ledger_leaves(min_size=2), st.data())
def test_inclusion_proof_in_an_older_tree_verifies(
    leaves: list[bytes], data: st.DataObject
) -> None:
    """A store serves proofs against any earlier checkpoint, not only the latest size."""
    tree = build(leaves)
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, tree)
    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, tree_root(tree, size))


@given(ledger_leaves(), st.data())
def test_any_flipped_bit_fails_an_inclusion_proof(leaves: list[bytes], data: st.DataObject) -> None:
    tree = build(leaves)
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof = list(inclusion_proof(index, n, tree))
    leaf, top = leaf_hash(leaves[index]), tree.root()
    targets = ["leaf", "root"] + (["proof"] if proof else [])
    target = data.draw(st.sampled_from(targets), label="target")
    if target == "leaf":
        leaf = flip_bit(leaf, data.draw(bit_of(leaf), label="bit"))
    elif target == "root":
        top = flip_bit(top, data.draw(bit_of(top), label="bit"))
    else:
        k = data.draw(st.integers(0, len(proof) - 1), label="element")
        proof[k] = flip_bit(proof[k], data.draw(bit_of(proof[k]), label="bit"))
    with pytest.raises(VerificationError, match="inclusion proof"):
        verify_inclusion(leaf, index, n, proof, top)


@given(ledger_leaves(), st.data())
def test_any_flipped_bit_fails_a_consistency_proof(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = build(leaves)
    n = len(leaves)
    m = data.draw(st.integers(1, n), label="old_size")
    proof = list(consistency_proof(m, n, tree))
    old, new = tree_root(tree, m), tree.root()
    target = data.draw(st.sampled_from(["old", "new"] + (["proof"] if proof else [])))
    if target == "old":
        old = flip_bit(old, data.draw(bit_of(old), label="bit"))
    elif target == "new":
        new = flip_bit(new, data.draw(bit_of(new), label="bit"))
    else:
        k = data.draw(st.integers(0, len(proof) - 1), label="element")
        proof[k] = flip_bit(proof[k], data.draw(bit_of(proof[k]), label="bit"))
    with pytest.raises(VerificationError, match="consistency proof"):
        verify_consistency(m, n, old, new, proof)


@given(ledger_leaves(min_size=2), st.data())
def test_a_proof_for_another_index_or_size_fails(leaves: list[bytes], data: st.DataObject) -> None:
    tree = build(leaves)
    n = len(leaves)
    index = data.draw(st.integers(0, n - 1))
    other = data.draw(st.integers(0, n - 1).filter(lambda j: j != index))
    proof = inclusion_proof(index, n, tree)
    if leaves[other] != leaves[index]:
        with pytest.raises(VerificationError):
            verify_inclusion(leaf_hash(leaves[index]), other, n, proof, tree.root())
    with pytest.raises(VerificationError, match="too long"):
        verify_inclusion(leaf_hash(leaves[index]), index, n, (*proof, bytes(32)), tree.root())
    if proof:
        with pytest.raises(VerificationError, match="too short"):
            verify_inclusion(leaf_hash(leaves[index]), index, n, proof[:-1], tree.root())


def test_known_small_trees() -> None:
    """RFC 9162 shapes written out by hand."""
    a, b, c, d, e = (leaf_hash(x) for x in (b"a", b"b", b"c", b"d", b"e"))
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert root([a]) == a
    abcd = node_hash(node_hash(a, b), node_hash(c, d))
    assert root([a, b, c]) == node_hash(node_hash(a, b), c)
    assert root([a, b, c, d, e]) == node_hash(abcd, e)
    tree = build([b"a", b"b", b"c", b"d", b"e"])
    assert inclusion_proof(2, 5, tree) == (d, node_hash(a, b), e)
    assert inclusion_proof(4, 5, tree) == (abcd,)
    assert consistency_proof(3, 5, tree) == (c, d, node_hash(a, b), e)
    assert consistency_proof(4, 5, tree) == (e,)
    assert consistency_proof(0, 5, tree) == consistency_proof(5, 5, tree) == ()


def test_bad_arguments_are_input_errors() -> None:
    tree = build([b"a", b"b", b"c"])
    with pytest.raises(LedgerInputError, match="index: leaf 3 is not in a tree of 3"):
        inclusion_proof(3, 3, tree)
    with pytest.raises(LedgerInputError, match="size: 4 is beyond the tree size"):
        inclusion_proof(0, 4, tree)
    with pytest.raises(LedgerInputError, match="old_size: 3 is beyond new_size"):
        consistency_proof(3, 2, tree)
    with pytest.raises(LedgerInputError, match="not a perfect subtree"):
        tree.subtree_hash(1, 3)
    with pytest.raises(LedgerInputError, match="leaf_hash"):
        tree.append_hash(b"short")
    assert isinstance(LedgerInputError(field="f", reason="r"), ValueError)


def test_verifiers_refuse_malformed_input() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(VerificationError, match="not in the tree"):
        verify_inclusion(h, 1, 1, [], h)
    with pytest.raises(VerificationError, match=r"leaf hash .* 3 bytes"):
        verify_inclusion(b"abc", 0, 1, [], b"abc")
    with pytest.raises(VerificationError, match="proves nothing"):
        verify_consistency(0, 1, EMPTY_ROOT, h, [])
    with pytest.raises(VerificationError, match="smaller"):
        verify_consistency(2, 1, h, h, [])


class CountingTree:
    """A tree of any size whose perfect-subtree hashes are made up on demand; counts lookups."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lookups = 0

    def subtree_hash(self, start: int, end: int) -> bytes:
        width = end - start
        assert width > 0
        assert width & (width - 1) == 0
        assert start % width == 0
        assert end <= self.size
        self.lookups += 1
        return hashlib.sha256(b"%d-%d" % (start, end)).digest()


@pytest.mark.parametrize("size", [1_000_000, 1_048_576, 2**40 + 12345])
def test_proofs_take_logarithmic_lookups(size: int) -> None:
    tree = CountingTree(size)
    depth = (size - 1).bit_length()
    for index in (0, 1, size // 3, size - 2, size - 1):
        tree.lookups = 0
        proof = inclusion_proof(index, size, tree)
        assert len(proof) <= depth
        assert tree.lookups <= 2 * depth + 1
    for old in (1, 7, size // 2, size - 1):
        tree.lookups = 0
        consistency_proof(old, size, tree)
        assert tree.lookups <= 2 * depth + 2


def test_an_inclusion_proof_in_a_million_leaves_takes_well_under_a_millisecond() -> None:
    size = 1_000_000
    tree = CountingTree(size)
    indexes = range(0, size, 997)
    start = time.perf_counter()
    for index in indexes:
        inclusion_proof(index, size, tree)
    per_proof_s = (time.perf_counter() - start) / len(indexes)
    assert per_proof_s < 0.25e-3, f"{per_proof_s * 1e3:.3f} ms per proof"
