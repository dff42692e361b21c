"""Cache of tensors that are a pure function of some watched tensors."""
from typing import Callable, Dict, Hashable, Iterable, List, Optional

from torch import Tensor


class KeyFrameOffsetsCache:
    """Entries keyed by e.g. (height, width, dtype, device), valid while
    the watched tensors (weights and BN statistics) are unchanged.

    Change detection uses each tensor's storage pointer and version
    counter; the counter grows with every in-place update (optimizer
    steps, ``load_state_dict``, ``tensor.add_``), so a stale entry is never
    returned. Tensors without a version counter (created under
    ``torch.inference_mode``) disable caching for that call.
    """

    def __init__(self) -> None:
        self._entries: Dict[Hashable, List[Tensor]] = {}
        self._fingerprint: Optional[tuple] = None

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries = {}
        self._fingerprint = None

    @staticmethod
    def fingerprint(tensors: Iterable[Tensor]) -> Optional[tuple]:
        """(storage pointer, version) of each tensor; None if unavailable."""
        try:
            return tuple((t.data_ptr(), t._version) for t in tensors)
        except RuntimeError:  # inference tensors have no version counter
            return None

    def get(self, key: Hashable, watched: Iterable[Tensor],
            compute: Callable[[], List[Tensor]]) -> List[Tensor]:
        """Return the entry of ``key``, computing it if absent or stale.

        Args:
            key (Hashable): Entry key.
            watched (Iterable[Tensor]): Tensors the entry depends on.
            compute (Callable): Produces the entry.

        Returns:
            list[Tensor]: The cached or freshly computed entry.
        """
        fingerprint = self.fingerprint(watched)
        if fingerprint is None:
            return compute()
        if fingerprint != self._fingerprint:
            self.clear()
            self._fingerprint = fingerprint
        if key not in self._entries:
            self._entries[key] = compute()
        return self._entries[key]
