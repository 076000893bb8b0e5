"""The Merkle tree of the ledger, in the shape of RFC 9162 (Certificate Transparency 2.0).

Hashes
------
With ``H`` = SHA-256 (32-byte hashes):

- leaf hash: ``H(0x00 || leaf)``; interior node: ``H(0x01 || left || right)``;
- the root of ``n`` leaf hashes ``D[0:n]`` (RFC 9162, section 2.1.1): ``H()`` for ``n = 0``,
  the leaf hash itself for ``n = 1``, else ``node(MTH(D[0:k]), MTH(D[k:n]))`` with ``k`` the
  largest power of two smaller than ``n``.

Where the hashes come from
--------------------------
Proofs are built from a :class:`TreeHashes` accessor that answers one question: the hash of
a *perfect* subtree, the ``2**h`` leaves ``[start, start + 2**h)`` with ``start`` a multiple of
``2**h``. Every other subtree hash is a fold of at most ``log2(n)`` perfect ones, so a store
that keeps the perfect-subtree hashes (the classic "tiles" of transparency logs) serves an
inclusion or consistency proof in O(log n) lookups. :class:`MemoryTree` is the in-memory
accessor.

Verifiers
---------
:func:`verify_inclusion` and :func:`verify_consistency` are the iterative algorithms of
RFC 9162, sections 2.1.3.2 and 2.1.4.2, with the edge cases of the transparency-dev/merkle
test vectors: hashes in proofs must be 32 bytes, a consistency proof from size 0 proves
nothing and is refused, and between equal sizes the proof is empty and the roots are equal.
They raise :class:`~skyparley.errors.VerificationError` (never return ``False``), so a
failure always says what did not hold.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from skyparley.errors import LedgerInputError, VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "TreeHashes",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 hash: every leaf hash, node hash, root and proof element."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree, SHA-256 of nothing."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """The RFC 9162 hash of one leaf: SHA-256(0x00 || leaf).

    Examples
    --------
    >>> leaf_hash(b"").hex()
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
    """
    return hashlib.sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node: SHA-256(0x01 || left || right).

    Examples
    --------
    >>> node_hash(leaf_hash(b"a"), leaf_hash(b"b")) == root([leaf_hash(b"a"), leaf_hash(b"b")])
    True
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of a list of leaf hashes (RFC 9162 MTH), computed bottom-up.

    Examples
    --------
    >>> root([]) == EMPTY_ROOT
    True
    >>> h = [leaf_hash(bytes([i])) for i in range(3)]
    >>> root(h) == node_hash(node_hash(h[0], h[1]), h[2])
    True
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # Pair from the left; an odd last node is carried up unchanged, which is exactly the
        # left-balanced shape of RFC 9162 (the right subtree is the smaller one).
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class TreeHashes(Protocol):
    """Read access to the hashes of a Merkle tree, as a store can serve them.

    ``size`` is the number of leaves. ``subtree_hash(start, end)`` is the hash of the perfect
    subtree over leaves ``[start, end)``: ``end - start`` is a power of two, ``start`` a
    multiple of it and ``end <= size``. ``subtree_hash(i, i + 1)`` is leaf hash ``i``.
    """

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        ...

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Hash of the perfect subtree over leaves ``[start, end)``."""
        ...


def _range_hash(tree: TreeHashes, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)``, with ``start`` aligned to the subtree it heads.

    The range splits into perfect subtrees, largest first (the set bits of ``end - start``
    from the top); their fold from the right is the left-balanced hash. At most
    ``log2(end - start) + 1`` lookups.
    """
    pieces: list[bytes] = []
    pos = start
    remaining = end - start
    while remaining:
        width = 1 << (remaining.bit_length() - 1)
        pieces.append(tree.subtree_hash(pos, pos + width))
        pos += width
        remaining -= width
    h = pieces[-1]
    for piece in reversed(pieces[:-1]):
        h = node_hash(piece, h)
    return h


def _check_size(name: str, value: int, *, upper: int, upper_name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LedgerInputError(field=name, reason=f"must be an integer >= 0, got {value!r}")
    if value > upper:
        raise LedgerInputError(field=name, reason=f"{value} is beyond {upper_name} ({upper})")


def tree_root(tree: TreeHashes, size: int) -> bytes:
    """The root of the first ``size`` leaves of ``tree`` (any size up to ``tree.size``).

    Examples
    --------
    >>> t = MemoryTree()
    >>> for i in range(5):
    ...     _ = t.append(bytes([i]))
    >>> tree_root(t, 3) == root([leaf_hash(bytes([i])) for i in range(3)])
    True
    """
    _check_size("size", size, upper=tree.size, upper_name="the tree size")
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(tree, 0, size)


def inclusion_proof(index: int, size: int, tree: TreeHashes) -> tuple[bytes, ...]:
    """The RFC 9162 inclusion proof (audit path) of leaf ``index`` in the tree of ``size``.

    Sibling hashes from the leaf up to the root, as :func:`verify_inclusion` takes them.
    O(log n) lookups in ``tree`` (at most one sibling is not a perfect subtree).

    Examples
    --------
    >>> t = MemoryTree()
    >>> for i in range(7):
    ...     _ = t.append(bytes([i]))
    >>> proof = inclusion_proof(4, 7, t)
    >>> len(proof)
    3
    >>> verify_inclusion(leaf_hash(bytes([4])), 4, 7, proof, tree_root(t, 7))
    """
    _check_size("size", size, upper=tree.size, upper_name="the tree size")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise LedgerInputError(
            field="index", reason=f"leaf {index!r} is not in a tree of {size} leaves"
        )
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(_range_hash(tree, start + k, end))
            end = start + k
        else:
            path.append(tree.subtree_hash(start, start + k))
            start += k
    path.reverse()
    return tuple(path)


def consistency_proof(old_size: int, new_size: int, tree: TreeHashes) -> tuple[bytes, ...]:
    """The RFC 9162 consistency proof that the tree of ``old_size`` is a prefix of ``new_size``.

    Empty when ``old_size`` is 0 or equal to ``new_size`` (as C2SP tlog-witness sends it).
    O(log n) lookups in ``tree``.

    Examples
    --------
    >>> t = MemoryTree()
    >>> for i in range(8):
    ...     _ = t.append(bytes([i]))
    >>> proof = consistency_proof(3, 8, t)
    >>> verify_consistency(3, 8, tree_root(t, 3), tree_root(t, 8), proof)
    """
    _check_size("new_size", new_size, upper=tree.size, upper_name="the tree size")
    _check_size("old_size", old_size, upper=new_size, upper_name="new_size")
    if old_size in (0, new_size):
        return ()
    # SUBPROOF(m, D[start:end], b) of RFC 9162 section 2.1.4.1, unrolled from the top.
    path: list[bytes] = []
    start, end, whole = 0, new_size, True
    while True:
        n, m = end - start, old_size - start
        if m == n:
            if not whole:
                path.append(_range_hash(tree, start, end))
            break
        k = _split(n)
        if m <= k:
            path.append(_range_hash(tree, start + k, end))
            end = start + k
        else:
            path.append(tree.subtree_hash(start, start + k))
            start += k
            whole = False
    path.reverse()
    return tuple(path)


def _check_hash(what: str, value: bytes, where: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(
            what=what, where=where, reason=f"is {len(value)} bytes, not {HASH_SIZE}"
        )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162, section 2.1.3.2. Raises :class:`~skyparley.errors.VerificationError` naming
    the leaf when the proof does not hold (wrong length, wrong hash, index out of range).

    Examples
    --------
    >>> h = leaf_hash(b"only")
    >>> verify_inclusion(h, 0, 1, [], h)
    >>> verify_inclusion(h, 0, 1, [], EMPTY_ROOT)
    Traceback (most recent call last):
    ...
    skyparley.errors.VerificationError: inclusion proof (leaf 0 of 1): the computed root \
differs from the given root
    """
    where = f"leaf {index} of {size}"
    what = "inclusion proof"
    if not 0 <= index < size:
        raise VerificationError(what=what, where=where, reason="the leaf is not in the tree")
    _check_hash("leaf hash", leaf_hash, where)
    for i, p in enumerate(proof):
        _check_hash(f"inclusion proof element {i}", p, where)
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError(what=what, where=where, reason="the proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(what=what, where=where, reason="the proof is too short")
    if r != root:
        raise VerificationError(
            what=what, where=where, reason="the computed root differs from the given root"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size``/``old_root`` is a prefix of ``new_size``/``new_root``.

    RFC 9162, section 2.1.4.2. Refuses ``old_size == 0`` (such a proof proves nothing: any
    tree extends the empty one) and, for equal sizes, wants an empty proof and equal roots.
    Raises :class:`~skyparley.errors.VerificationError` naming both sizes.

    Examples
    --------
    >>> h = [leaf_hash(bytes([i])) for i in range(4)]
    >>> verify_consistency(2, 4, root(h[:2]), root(h), [node_hash(h[2], h[3])])
    >>> verify_consistency(2, 4, root(h[:2]), root(h), [])
    Traceback (most recent call last):
    ...
    skyparley.errors.VerificationError: consistency proof (from size 2 to 4): the proof is empty
    """
    where = f"from size {old_size} to {new_size}"
    what = "consistency proof"

    def fail(reason: str) -> VerificationError:
        return VerificationError(what=what, where=where, reason=reason)

    if old_size < 0 or new_size < old_size:
        raise fail("the new tree is smaller than the old one")
    if old_size == 0:
        raise fail("a proof from the empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise fail("the sizes are equal but the proof is not empty")
        if old_root != new_root:
            raise fail("the sizes are equal but the roots differ")
        return
    if not proof:
        raise fail("the proof is empty")
    for i, p in enumerate(proof):
        _check_hash(f"consistency proof element {i}", p, where)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old tree is a perfect subtree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise fail("the proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise fail("the proof is too short")
    if fr != old_root:
        raise fail("the proof does not lead to the old root")
    if sr != new_root:
        raise fail("the proof does not lead to the new root")


class MemoryTree:
    """An append-only Merkle tree in memory: a :class:`TreeHashes` that caches every
    perfect-subtree hash (about ``2 n`` hashes for ``n`` leaves).

    Appending costs O(1) amortised hashes; :func:`inclusion_proof`, :func:`consistency_proof`
    and :func:`tree_root` on it do O(log n) lookups.

    Examples
    --------
    >>> t = MemoryTree()
    >>> t.append(b"first"), t.append(b"second"), t.size
    (0, 1, 2)
    >>> t.root() == node_hash(leaf_hash(b"first"), leaf_hash(b"second"))
    True
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        # _levels[h][j]: hash of the perfect subtree over leaves [j * 2**h, (j + 1) * 2**h).
        self._levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Append a leaf (its bytes, hashed here); returns its index."""
        return self.append_hash(leaf_hash(leaf))

    def append_hash(self, leaf_hash: bytes) -> int:
        """Append a leaf by its hash (a store that keeps leaf hashes); returns its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise LedgerInputError(
                field="leaf_hash", reason=f"is {len(leaf_hash)} bytes, not {HASH_SIZE}"
            )
        levels = self._levels
        index = len(levels[0])
        levels[0].append(leaf_hash)
        h = 0
        # Each completed pair at level h makes one node at level h + 1.
        while len(levels[h]) % 2 == 0:
            if len(levels) == h + 1:
                levels.append([])
            levels[h + 1].append(node_hash(levels[h][-2], levels[h][-1]))
            h += 1
        return index

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Hash of the perfect subtree over leaves ``[start, end)`` (see :class:`TreeHashes`)."""
        width = end - start
        if width <= 0 or width & (width - 1) or start % width or end > self.size:
            raise LedgerInputError(
                field="subtree",
                reason=f"[{start}, {end}) is not a perfect subtree of a tree of {self.size}",
            )
        return self._levels[width.bit_length() - 1][start // width]

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all of them by default)."""
        return tree_root(self, self.size if size is None else size)
