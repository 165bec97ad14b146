"""The kiosk's side of the studio delivery hold (ui/studio/delivery_hold.py).

A guest's result with a failed check is not e-mailed, shared or printed until the
operator enters their PIN (the kiosk's Approve; closing the PIN dialog is Discard). A
result flagged as sensitive is never handed out while Settings.studio_forbid_flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from photoflux_desktop.ui.check_warning import failed_checks, flagged

WAITING = "This picture is waiting for a member of staff to check it. Please ask them."
FORBIDDEN = (
    "This picture cannot be handed out: our automatic check flagged it. Please try another style."
)


def released(
    window: Any, guest: Any, deliver: Callable[[], Any], note: Callable[[str], Any]
) -> bool:
    """True when the guest's result may go out now; otherwise `note` says why and, when
    the operator may release it, their PIN runs `deliver` again."""
    if guest.approved or not failed_checks(guest.checks):
        return True
    if flagged(guest.checks) and window.settings.studio_forbid_flagged:
        note(FORBIDDEN)
        return False
    note(WAITING)

    def approve() -> None:
        if window.guest is guest:  # the same guest still stands there
            guest.approved = True
            deliver()

    window._ask_pin("hand out this picture", approve)
    return False
