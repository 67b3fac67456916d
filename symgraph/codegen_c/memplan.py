"""Scratch-buffer planning: which intermediate lives in which slot.

Planned at compile time, as the nodes are emitted (a linear scan): an
intermediate takes a free slot when it is produced and gives it back after
the last node that reads it or any view of it. A slot is one buffer in the
function's state that survives between calls; it grows when a bigger input
shape needs more room and is reused as is otherwise, so a second call with
the same shapes allocates nothing.
"""

from __future__ import annotations

NEVER = 1 << 60  # the last use of a segment output: the end of the function


class SlotPlan:
    """Assigns slots to intermediates of one segment, given last uses."""

    def __init__(self, last_use: dict, first_slot: int = 0) -> None:
        #: {variable: index of the last node that reads it}
        self.last_use = dict(last_use)
        self.first_slot = first_slot
        self.n_slots = 0
        self._free: list[int] = []
        self._owner: dict[int, object] = {}  # slot -> root variable
        self._root_end: dict = {}  # root variable -> last use of it or its views

    def take(self, var, root=None) -> int:
        """A slot for ``var`` (produced now), kept while ``root`` (default
        ``var``) or any view of it is still to be read."""
        if self._free:
            slot = self._free.pop()
        else:
            slot = self.first_slot + self.n_slots
            self.n_slots += 1
        root = var if root is None else root
        self._owner[slot] = root
        self._root_end[root] = max(
            self._root_end.get(root, -1),
            self.last_use.get(root, -1),
            self.last_use.get(var, -1),
        )
        return slot

    def extend(self, root, view) -> None:
        """``view`` uses the storage of ``root``: keep it alive as long."""
        if root in self._root_end:
            end = max(self._root_end[root], self.last_use.get(view, -1))
            self._root_end[root] = end

    def release(self, position: int) -> None:
        """Give back the slots whose variables are dead after node ``position``."""
        for slot, root in list(self._owner.items()):
            if self._root_end[root] <= position:
                del self._owner[slot]
                # Most recently freed first: it is warm in the cache.
                self._free.append(slot)
