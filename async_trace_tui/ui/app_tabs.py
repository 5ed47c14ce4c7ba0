"""Moving between the app's tabs (mixed into TraceTuiApp): their ids, the widget each one
focuses, `]`/`[` to the next or previous tab, `w` to close a waterfall or flow tab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ScreenStackError
from textual.css.query import NoMatches
from textual.widgets import TabPane

from .flow_pane import FLOW_PREFIX

if TYPE_CHECKING:
    from .app import TraceTuiApp

TRACES_TAB = "traces-tab"
DEPS_TAB = "deps-tab"
SERVICES_TAB = "services-tab"
WATERFALL_PREFIX = "wf-"
CLOSABLE = (WATERFALL_PREFIX, FLOW_PREFIX)  # tabs `w` closes


class TabSwitching:
    """Tab moves for the app (mixed into TraceTuiApp)."""

    def waterfall_tabs(self: TraceTuiApp) -> list[str]:
        return [p.id for p in self.tabs.query(TabPane)
                if p.id and p.id.startswith(WATERFALL_PREFIX)]

    def _focus_tab(self: TraceTuiApp, tab_id: str) -> None:
        try:
            self._focus_tab_now(tab_id)
        except (NoMatches, ScreenStackError):
            pass  # the app is closing: its widgets are going away

    def _focus_tab_now(self: TraceTuiApp, tab_id: str) -> None:
        if tab_id == TRACES_TAB:
            self.traces_table.focus()
        elif tab_id == DEPS_TAB:
            pane = self.deps_pane
            if pane is not None:
                pane.dep_tree.focus()
        elif tab_id == SERVICES_TAB and (services := self.services_pane) is not None:
            services.focus_main()
        elif tab_id.startswith(WATERFALL_PREFIX):
            found = self.tabs.query(f"#{tab_id} Waterfall")
            if found:
                found.first().focus()
        elif tab_id.startswith(FLOW_PREFIX):
            self.focus_flow_tab(tab_id)

    def _active_tab(self: TraceTuiApp) -> str:
        try:
            return self.tabs.active or ""
        except Exception:
            return ""

    def _tab_ids(self: TraceTuiApp) -> list[str]:
        return [p.id for p in self.tabs.query(TabPane) if p.id]

    def _step_tab(self: TraceTuiApp, step: int) -> None:
        ids = self._tab_ids()
        active = self._active_tab()
        if active in ids and len(ids) > 1:
            nxt = ids[(ids.index(active) + step) % len(ids)]
            self.tabs.active = nxt
            self._focus_tab(nxt)

    def action_next_tab(self: TraceTuiApp) -> None:
        self._step_tab(1)

    def action_previous_tab(self: TraceTuiApp) -> None:
        self._step_tab(-1)

    async def action_close_tab(self: TraceTuiApp) -> None:
        active = self._active_tab()
        if not active.startswith(CLOSABLE):
            self.say("w closes a waterfall or flow tab", timeout=3)
            return
        ids = self._tab_ids()
        at = ids.index(active)
        neighbour = ids[at - 1] if at > 0 else TRACES_TAB
        # Leave the tab first: removing the active tab would activate the next one.
        self.tabs.active = neighbour
        await self.tabs.remove_pane(active)
        self._focus_tab(neighbour)
        self.refresh_bindings()
