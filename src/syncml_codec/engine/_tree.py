"""Hierarchical sync (SyncML 1.2, issue 14): the rules for a datastore whose
items form a tree of folders, kept apart from the session code so that they
can be read (and tested) on their own.

The tree lives in the store: every item has a ``parent``, the GUID of the
folder item that contains it (``""``: the datastore's root; see
:mod:`syncml_codec.store.base`).  A folder item is an OMA DS folder object
(``application/vnd.omads-folder+xml``); the hierarchy lives in the sync
protocol, not in the objects.

On the wire (OMA DS 1.2 "hierarchical synchronization"):

* From the client, an Add, Replace or Move item names its parent either by
  the client's LUID (``<SourceParent>``) or by our GUID (``<TargetParent>``,
  when the client knows it from a Map or from our Add).  The root is the
  parent element left out, an empty or ``.`` LocURI, or the datastore's URI
  as either side names it.  A Replace without a parent keeps the item where
  it is (in a slow sync, where every item comes whole, it is at the root); a
  Replace with one, and a Move, move it (same GUID).
* To the client, an Add or Replace names the parent by the client's LUID
  (``<TargetParent>``) when the parent is mapped, else by our GUID
  (``<SourceParent>``: the parent was sent earlier in the same package and
  its Map has not come yet); an item at the root carries the client's URI of
  the datastore as ``<TargetParent>`` in a Replace (so that a move to the root
  is stated) and nothing in an Add.  Parents go before their children and
  the Deletes of children before those of their folders.

What a client is refused (each an item Status, nothing changed, the session
going on): a parent that is not known or no longer exists (404), a parent
that is not a folder (400), a move of a folder into itself or into one of
its own folders (428 "Move failed", :func:`creates_loop`), a tree deeper
than :data:`MAX_TREE_DEPTH` (403), and an Add to a tree that holds
:data:`MAX_TREE_ITEMS` items already (420).  A malformed folder or file object gets
400 before anything is written (:func:`check_tree_item`).

A datastore is synced as a tree when the server offers one for it
(:data:`~syncml_codec.store.base.TREE_DATASTORES`, or a store view whose
``offers_tree(canonical)`` says so) and the client's DevInf says
``SupportHierarchicalSync`` (in that DataStore, as DevInf 1.2 has it, or for
the whole device, as pysyncml sends it).  Another client sees the datastore
flat: its items without the folder items, its Adds at the root, its moves
unknown (:func:`flat_visible`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..devinf import DevInf
from ..errors import FormatError, ProtocolError
from ..formats.omads import FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE, FileObject, FolderObject
from ..model import StatusCode
from ..store.base import TREE_DATASTORES, StoredItem

__all__ = [
    "FILE_TYPES",
    "MAX_TREE_DEPTH",
    "MAX_TREE_ITEMS",
    "check_tree_item",
    "client_hierarchical",
    "creates_loop",
    "depth_of",
    "flat_visible",
    "is_folder",
    "is_root",
    "offers_tree",
    "tree_order",
]

#: folders a client may nest (a deeper Add or move is refused with 403): a client controls the
#: tree's depth, and walking it (loops, depths, the order of package 4) is linear in it
MAX_TREE_DEPTH = 64
#: live items a tree datastore of one account holds at most (an Add beyond is refused with 420,
#: "device full"): a client controls how many items it sends, and the engine walks the tree
MAX_TREE_ITEMS = 100_000
#: the types a tree datastore keeps
FILE_TYPES = (FILE_CONTENT_TYPE, FOLDER_CONTENT_TYPE)
_ROOTS = {"", ".", "/", "./"}


def offers_tree(store: object, canonical: str) -> bool:
    """Whether the server side keeps ``canonical`` as a tree: the Files
    datastore, or one a store view says it offers as one (``offers_tree``).

    >>> offers_tree(object(), "Files"), offers_tree(object(), "Contacts")
    (True, False)
    """
    if canonical in TREE_DATASTORES:
        return True
    hook: Callable[[str], bool] | None = getattr(store, "offers_tree", None)
    return bool(hook(canonical)) if hook is not None else False


def client_hierarchical(devinf: DevInf | None, client_uri: str) -> bool:
    """Whether the client's DevInf says ``SupportHierarchicalSync`` for its
    datastore ``client_uri`` (or for the whole device); False without DevInf."""
    if devinf is None:
        return False
    if devinf.support_hierarchical_sync:
        return True
    theirs = devinf.datastore(client_uri) if client_uri else None
    return bool(theirs is not None and theirs.support_hierarchical_sync)


def is_root(uri: str | None, *datastore_uris: str) -> bool:
    """Whether a parent LocURI names the datastore's root.

    >>> is_root(""), is_root("."), is_root("./files", "./files"), is_root("12")
    (True, True, True, False)
    """
    key = (uri or "").strip()
    return key in _ROOTS or any(key == u.strip() for u in datastore_uris if u.strip())


def is_folder(item: StoredItem | None) -> bool:
    """Whether ``item`` is a live folder item."""
    return item is not None and not item.deleted and item.content_type == FOLDER_CONTENT_TYPE


def depth_of(guid: str, parents: Mapping[str, str]) -> int:
    """How deep ``guid`` lies (1: at the root), by ``parents`` (GUID -> parent
    GUID); a loop or an unknown parent ends the walk (never more than
    :data:`MAX_TREE_DEPTH` + 1 steps).

    >>> depth_of("c", {"a": "", "b": "a", "c": "b"})
    3
    """
    depth, seen = 1, {guid}
    parent = parents.get(guid, "")
    while parent and depth <= MAX_TREE_DEPTH and parent not in seen:
        seen.add(parent)
        depth += 1
        parent = parents.get(parent, "")
    return depth


def creates_loop(guid: str, new_parent: str, parents: Mapping[str, str]) -> bool:
    """Whether moving ``guid`` under ``new_parent`` makes a loop: the new
    parent is the item itself or lies inside it.

    >>> tree = {"a": "", "b": "a", "c": "b"}
    >>> creates_loop("a", "c", tree), creates_loop("c", "a", tree), creates_loop("a", "a", tree)
    (True, False, True)
    """
    node, steps = new_parent, 0
    while node and steps <= MAX_TREE_DEPTH + 1:
        if node == guid:
            return True
        node = parents.get(node, "")
        steps += 1
    return False


def check_parent(parent: StoredItem | None, guid: str) -> None:
    """Refuse a parent that does not exist (404) or is not a folder (400)."""
    if parent is None or parent.deleted:
        raise ProtocolError(f"parent {guid!r} not found", StatusCode.NOT_FOUND)
    if parent.content_type != FOLDER_CONTENT_TYPE:
        raise ProtocolError(f"parent {guid!r} is not a folder", StatusCode.BAD_REQUEST)


def check_tree_item(data: bytes, content_type: str | None) -> str:
    """The type of a file or folder object, after reading it whole (a
    malformed one raises :class:`~syncml_codec.errors.FormatError`, answered
    400 before anything is stored).

    >>> check_tree_item(b"<Folder><name>a</name></Folder>", None)
    'application/vnd.omads-folder+xml'
    """
    head = bytes(data[:256]).lstrip()
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if head.startswith(b"<Folder") or (declared == FOLDER_CONTENT_TYPE and not head.startswith(b"<File")):
        folder = FolderObject.parse(data)
        if not (folder.name or "").strip():
            raise FormatError("a folder object without a name", 1, "name")
        return FOLDER_CONTENT_TYPE
    FileObject.parse(data)
    return FILE_CONTENT_TYPE


def flat_visible(item: StoredItem) -> bool:
    """What a client without hierarchical sync sees of a tree datastore: its
    files (the whole tree's), not its folder items."""
    return item.content_type != FOLDER_CONTENT_TYPE


def tree_order(guids: Iterable[str], parents: Mapping[str, str], *, deletes: bool = False) -> list[str]:
    """``guids`` in the order package 4 sends them: parents before their
    children (``deletes``: children before their folders), otherwise as
    given (a stable sort by depth).

    >>> tree_order(["c", "a", "b"], {"a": "", "b": "a", "c": "b"})
    ['a', 'b', 'c']
    >>> tree_order(["a", "c", "b"], {"a": "", "b": "a", "c": "b"}, deletes=True)
    ['c', 'b', 'a']
    """
    listed = list(guids)
    depth = {g: depth_of(g, parents) for g in listed}
    return sorted(listed, key=lambda g: -depth[g] if deletes else depth[g])
