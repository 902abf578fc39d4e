"""`Stage`: one stage of a funnel (re-exported by `salesstd.funnel`)."""

from __future__ import annotations

import attrs

from salesstd.funnel._parts import StageKind

__all__ = ["Stage"]


@attrs.frozen
class Stage:
    """One stage of a funnel.

    Attributes:
        name: The stage's name, also the activity that records it.
        kind: ``"open"`` for a stage deals move through, ``"won"`` or ``"lost"`` for a
            terminal outcome.
        position: Index in funnel order (open stages, then won, then lost); the stage's code
            in `Funnel.stage_codes`.
        aliases: Other activity names that record this stage, sorted.

    Examples:
        >>> ss.Funnel.linear(["lead", "won"]).won
        Stage(name='won', kind='won', position=1, aliases=())
    """

    name: str
    kind: StageKind
    position: int
    aliases: tuple[str, ...] = ()

    @property
    def is_outcome(self) -> bool:
        """Whether the stage is terminal (won or lost)."""
        return self.kind != "open"
