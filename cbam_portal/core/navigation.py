"""Main-menu entries contributed by the domain apps.

An app adds its pages to the navigation bar from a `navigation.py` module (discovered at start-up)::

    from cbam_portal.core.navigation import register_nav_item
    register_nav_item(_("Imports"), "declarations:import_list", kinds=("declarant", "representative"),
                      active=("declarations:import_*",), order=20)

An entry shows only for organisations of one of `kinds` and members with `capability`. Its
`description` (one sentence) is shown on the dashboard's "Where to go" card for the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cbam_portal.accounts.policy import Capability


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    kinds: frozenset[str] | None = None
    capability: Capability = Capability.VIEW
    active: tuple[str, ...] = ()  # URL names (`ns:name`, or a prefix ending in `*`) that highlight it
    order: int = 100
    description: str = ""

    def visible_to(self, access) -> bool:
        if access is None:
            return False
        if self.kinds is not None and access.organisation.kind not in self.kinds:
            return False
        return access.can(self.capability)

    def is_active(self, view_name: str) -> bool:
        patterns = self.active or (self.url_name,)
        return any(view_name.startswith(p[:-1]) if p.endswith("*") else view_name == p for p in patterns)


_ITEMS: dict[str, NavItem] = {}


def register_nav_item(
    label: str,
    url_name: str,
    *,
    kinds: Iterable[str] | None = None,
    capability: Capability = Capability.VIEW,
    active: Iterable[str] = (),
    order: int = 100,
    description: str = "",
) -> NavItem:
    item = NavItem(
        label=label,
        url_name=url_name,
        kinds=frozenset(kinds) if kinds is not None else None,
        capability=capability,
        active=tuple(active),
        order=order,
        description=description,
    )
    _ITEMS[url_name] = item  # registering again (module reloaded) replaces, never duplicates
    return item


def nav_items_for(access) -> list[NavItem]:
    return sorted((i for i in _ITEMS.values() if i.visible_to(access)), key=lambda i: (i.order, str(i.label)))
